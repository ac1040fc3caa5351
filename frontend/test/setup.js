// yjs warns when JupyterLab's models read a cell before it joins the
// notebook's document (it does so while inserting cells): noise, not news.
const warn = console.warn;
console.warn = (...args) => {
  if (args.some(a => typeof a === 'string' && (a.includes('Invalid access: Add Yjs type') || a.includes('Not same Y.Doc')))) {
    return;
  }
  warn(...args);
};

// jsdom has no structuredClone, which dagre uses (browsers and Node have it).
if (typeof globalThis.structuredClone !== 'function') {
  const v8 = require('v8');
  globalThis.structuredClone = v => v8.deserialize(v8.serialize(v));
}
