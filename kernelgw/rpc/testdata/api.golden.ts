// Code generated from the datainsight RPC method list by rpc.TypeScript. DO NOT EDIT.

/** JSON-RPC error codes. */
export const ErrorCode = {
  /** the message is not JSON */
  ParseError: -32700,
  /** not a JSON-RPC 2.0 request */
  InvalidRequest: -32600,
  /** no such method */
  MethodNotFound: -32601,
  /** params do not fit the method; data.field names the field */
  InvalidParams: -32602,
  /** a bug on the server; its log has the details */
  Internal: -32603,
  /** the method failed; the message says why */
  Failed: -32000,
  /** no credentials, or wrong ones */
  Unauthorized: -32001,
  /** a path outside the notebook root; data.path names it */
  ForbiddenPath: -32002,
  /** the thing named does not exist */
  NotFound: -32003,
  /** the thing exists, or its state forbids the call */
  Conflict: -32004,
  /** a body, message or batch over its limit */
  TooLarge: -32005,
  /** the call was canceled: the client left or the server is stopping */
  Canceled: -32006,
  /** the call ran past its deadline */
  Timeout: -32007,
  /** the server is shutting down or full */
  Unavailable: -32008,
  /** refused: a foreign Origin or a missing XSRF token */
  Forbidden: -32009,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface AddParams {
  a: number;
  b: number;
}

export interface AnalyzeParams {
  /** The notebook's path under the root. */
  path: string;
  /** An unsaved notebook, instead of the file. */
  body?: unknown;
  options?: { strict: boolean; maxSteps?: number };
}

export interface AnalyzeResult {
  labels?: Record<string, string>;
  created: string;
  steps: Step[] | null;
  edges: [string, string][] | null;
  byStatus?: Partial<Record<RunStatus, number>>;
  digest?: string;
  extra: unknown;
  score: number;
  parent: Step | null;
}

export interface EchoParams {
  text: string;
  times?: number;
}

export interface EchoResult {
  text: string;
}

export interface FailParams {
  how: string;
}

export interface GPU {
  count: number;
  vendor?: string;
}

export interface RpcSubscribeParams {
  /** The topics to subscribe to, or to leave. */
  topics: string[] | null;
}

export interface RpcTestSubscribeParams {
  run: string;
}

export type RunStatus = "pending" | "running" | "succeeded" | "failed";

export interface RunStatusEvent {
  run: string;
  status: RunStatus;
  step?: string;
}

export interface Step {
  /** The step's name, unique in the pipeline. */
  name: string;
  cells: number[] | null;
  ins?: string[];
  gpu?: GPU;
  status: RunStatus;
  children?: (Step | null)[];
}

export interface SubscribeResult {
  /** The client's subscriptions now. */
  topics: string[] | null;
}

/** The methods a client may call: params and result, by method name. */
export interface Methods {
  /** Adds. */
  add: { params: AddParams; result: number };
  /** Analyzes a notebook: steps, edges, ins and outs. */
  analyze: { params: AnalyzeParams; result: AnalyzeResult };
  /** Waits for the test. */
  block: { params: Record<string, never>; result: string };
  /** Echoes text. */
  echo: { params: EchoParams; result: EchoResult };
  /** Fails as asked. */
  fail: { params: FailParams; result: Record<string, never> };
  /** Sends a notification, then answers. */
  notify: { params: EchoParams; result: EchoResult };
  /** Subscribes this WebSocket client to topics; the server then sends it the notifications published to them. */
  "rpc.subscribe": { params: RpcSubscribeParams; result: SubscribeResult };
  /** Ends this WebSocket client's subscriptions to topics. */
  "rpc.unsubscribe": { params: RpcSubscribeParams; result: SubscribeResult };
  /** Returns a run. */
  "run.get": { params: { id: string }; result: Step | null };
  /** Subscribes to a run's status. */
  "run.watch": { params: RpcTestSubscribeParams; result: Record<string, never> };
}

/** The notifications the server pushes over WebSocket: params, by method name. */
export interface Notifications {
  /** A run's or a step's status changed. */
  "run.status": RunStatusEvent;
}

export type MethodName = keyof Methods;
export type NotificationName = keyof Notifications;
