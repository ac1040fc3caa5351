/**
 * The layout worker's code: bundled with dagre into one script
 * (scripts/bundle-worker.js → layoutWorker.gen.ts) that the panel starts
 * from a Blob URL, so it works in the lab app and in the prebuilt
 * extension alike.
 */
import { answerLayout, LayoutMessage, LayoutReply } from './layoutClient';

const scope = self as unknown as {
  onmessage: ((e: { data: LayoutMessage }) => void) | null;
  postMessage(r: LayoutReply): void;
};
scope.onmessage = e => scope.postMessage(answerLayout(e.data));
