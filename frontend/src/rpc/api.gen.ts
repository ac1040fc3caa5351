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

export interface Analysis {
  steps: (Step | null)[] | null;
  file_edges: FileEdge[] | null;
  parameters: Parameter[] | null;
  local_modules: LocalModule[] | null;
  diagnostics: Diagnostic[] | null;
  language: string;
}

export interface AnalyzeParams {
  /** The notebook's path, relative to the notebook root (or absolute, inside it). */
  path?: string;
  /** The notebook's JSON as edited, when it differs from the saved file; path then says where it lives. */
  body?: unknown;
  /** With edits: the revision of this WebSocket connection's latest analyze of the notebook (its result's revision), which the edits change. A base that is no longer the latest is refused (code -32004, data.field base): send the whole body again. */
  base?: string;
  /** Cells changed since base, by id: what the panel sends on a keystroke instead of the notebook's whole body. Cells added, removed or moved need the whole body. */
  edits?: CellEdit[];
}

export interface AnalyzeResult {
  /** Steps, edges, ins/outs, parameters and diagnostics (as analyze --json prints them). */
  analysis: Analysis | null;
  /** Over a WebSocket, for a notebook given as a body or as edits: names this version of it, the base of the next call's edits. */
  revision?: string;
}

export type Backend = "local" | "argo";

export interface CellEdit {
  /** The cell's id. */
  id: string;
  /** Its whole source, as edited. */
  source: string;
  /** Its tags, when they changed too. */
  tags?: string[];
}

export interface CheckParams {
  /** The notebook's path, relative to the notebook root (or absolute, inside it). */
  path?: string;
  /** The notebook's JSON as edited, when it differs from the saved file; path then says where it lives. */
  body?: unknown;
  /** The id of a running kernel of the sidecar's Jupyter server (the notebook's own kernel), whose values are checked. Omitted, the result's code is for the caller to run in its own namespace instead (the kernel-side magic). */
  kernel?: string;
}

export interface CheckResult {
  /** Outputs, present in the kernel, that the runtime cannot save (empty when all can be). */
  unsavable: Unsavable[] | null;
  /** How many outputs were present in the kernel and checked. */
  checked: number;
  /** Outputs not defined in the kernel (their cells have not run), which were not checked. */
  missing: string[] | null;
  /** Without kernel: Python code to run in the caller's namespace (with nothing of its own left there); it prints the rest of this result as JSON on a line starting with marker. */
  code?: string;
  /** Without kernel: what the answer's line starts with. */
  marker?: string;
}

export interface CompileParams {
  /** The notebook's path, relative to the notebook root (or absolute, inside it). */
  path?: string;
  /** The notebook's JSON as edited, when it differs from the saved file; path then says where it lives. */
  body?: unknown;
  /** The notebook's folder as the notebook server sees it (default: its folder here). */
  notebook_dir?: string;
  /** Keep step reports as output artifacts. */
  artifact_repository?: boolean;
}

export interface CompileResult {
  /** The Argo Workflow, in YAML. */
  workflow: string;
  /** The analysis' warnings and notes. */
  diagnostics: Diagnostic[] | null;
}

export interface ConfigResult {
  /** Where runs go unless a call says otherwise: local or argo. */
  backend: string;
  /** The Kubernetes namespace Argo runs go to (the configuration's, else the kubeconfig context's): read-only, never taken from a request or a notebook. */
  namespace?: string;
  /** Why there is no namespace: no cluster configuration, for one. */
  namespace_error?: string;
  /** The object store local runs keep their values in too, s3://BUCKET[/PREFIX], if any. */
  marshal?: string;
  /** The artifact repository's bucket as the sidecar reaches it, for Argo runs in marshal mode artifacts, if any. */
  artifact_store?: string;
  /** Whether the sidecar reaches the Jupyter server the kernels run in (check and explore with a kernel id need it). */
  jupyter: boolean;
}

export interface DefinitionResult {
  /** Workflow (an Argo run: the Workflow as the cluster keeps it, without its status) or Pipeline (a local run: the pipeline it ran). */
  kind: string;
  /** The definition, in YAML. */
  yaml: string;
}

export interface DeleteResult {
  deleted: string;
}

export interface Diagnostic {
  severity: string;
  cell: number | null;
  line: number;
  col: number;
  code: string;
  message: string;
}

export interface Distribution {
  /** Its name, as its metadata spells it. */
  name: string;
  version: string;
}

export interface EnvParams {
  /** The id of a running kernel of the sidecar's Jupyter server (the notebook's own kernel). */
  kernel: string;
}

export interface EnvResult {
  /** The kernel's environment. */
  kernel: PythonEnv;
  /** The interpreter local runs use (the configured python). */
  local_python: string;
  /** Its environment; absent when it could not be run (a warning says why). */
  local?: PythonEnv;
  /** How local runs' environment differs from the kernel's: what may make a step fail, or compute otherwise, there. */
  warnings: EnvWarning[] | null;
}

export interface EnvVar {
  name: string;
  value: string;
}

export interface EnvWarning {
  /** version (the Python versions differ), missing (a package of the kernel's that local runs do not have) or other-version (a package at another version). */
  kind: string;
  /** The package, for missing and other-version. */
  package?: string;
  /** Its version in the kernel. */
  kernel?: string;
  /** Its version where local runs run ("" when missing). */
  local?: string;
  /** The difference, in words. */
  message: string;
}

export interface Event {
  time: string;
  run: string;
  step?: string;
  type: string;
  phase?: string;
  message?: string;
  cached?: boolean;
}

export interface ExploreParams {
  /** A past run of the notebook: a local one, or an Argo one in marshal mode artifacts (backend argo). */
  run: string;
  /** The step of that run whose inputs to load. */
  step: string;
  /** The id of a running kernel of the sidecar's Jupyter server (the notebook's own kernel), where the values are bound. Omitted, the result's code is for the caller to run in its own namespace instead: the kernel-side magic, whose kernel cannot take a request of the sidecar's while it runs the magic's cell. */
  kernel?: string;
  /** The notebook the run is of: local runs are recorded beside it (default: the notebook root's runs). */
  path?: string;
  /** The run's backend (default local). An Argo run's step inputs are fetched from its object store: marshal mode artifacts, with the sidecar's artifact store configured. */
  backend?: Backend;
}

export interface ExploreResult {
  /** The run the values are of. */
  run: string;
  /** The step whose inputs they are. */
  step: string;
  /** The names bound in the kernel's namespace: the step's inputs, then its parameters. */
  bound: Explored[] | null;
  /** The inputs that could not be loaded, and why. */
  unavailable: Unavailable[] | null;
  /** Without kernel: Python code to run in the caller's namespace (with nothing of its own left there); it prints the rest of this result as JSON on a line starting with marker. */
  code?: string;
  /** Without kernel: what the answer's line starts with. */
  marker?: string;
}

export interface Explored {
  /** The name bound in the kernel's namespace. */
  name: string;
  /** The value's type, e.g. pandas.core.frame.DataFrame. */
  type: string;
  /** Where it came from: the step that saved it ("step load"), or "parameter". */
  source: string;
  /** The size of the file the value was loaded from (for values saved together, of their shared file). */
  bytes?: number;
  /** len() of the value, where it has one. */
  length?: number;
  /** The value's shape (arrays, data frames, tensors). */
  shape?: number[];
}

export interface FileEdge {
  from: string;
  to: string;
  path: string;
}

export interface LocalModule {
  name: string;
  path: string;
  files: string[] | null;
}

export interface LogLine {
  run: string;
  step: string;
  line: string;
}

export interface LogsParams {
  /** The run's id. */
  run: string;
  /** The notebook the run is of: local runs are recorded beside it (default: the notebook root's runs). */
  path?: string;
  /** The run's backend (default: the sidecar's configuration). */
  backend?: Backend;
  /** One step's output; default: every step's, each line prefixed "STEP | ". */
  step?: string;
}

export interface LogsResult {
  logs: string;
  /** The output was longer than the limit; the rest is left out. */
  truncated?: boolean;
}

export interface Marshal {
  mode?: string;
  pvc?: string;
  size?: string;
  storage_class?: string;
  access_mode?: string;
}

export interface NotebookAnalysis {
  /** The notebook's path relative to the notebook root. */
  path: string;
  /** Its analysis; absent when the file could not be read. */
  analysis?: Analysis;
  /** Why the file could not be read or parsed (it was deleted, or is being written). */
  error?: string;
}

export interface NotebookRef {
  /** The notebook's path, relative to the notebook root (or absolute, inside it). */
  path: string;
}

export interface NotebookSubscription {
  /** The topic notebook.analysis notifications about this notebook are published to. */
  topic: string;
  /** The notebook's path relative to the notebook root, as the notifications name it. */
  path: string;
  /** The saved notebook's analysis now (absent from notebook.unsubscribe's result). */
  analysis?: Analysis;
}

export interface Parameter {
  name: string;
  type: string;
  default: string;
}

export interface PythonEnv {
  /** The Python version, e.g. 3.11.2. */
  version: string;
  /** sys.version, in full. */
  sys_version: string;
  /** CPython, PyPy, ... */
  implementation: string;
  /** sys.executable. */
  executable: string;
  /** sys.prefix: the environment (a virtual environment's folder, for one). */
  prefix: string;
  /** The installed distributions, by name (the first found on sys.path where several have the same name). */
  packages: Distribution[] | null;
}

export interface ReportParams {
  /** The run's id. */
  run: string;
  /** The notebook the run is of: local runs are recorded beside it (default: the notebook root's runs). */
  path?: string;
  /** The run's backend (default: the sidecar's configuration). */
  backend?: Backend;
  /** The step whose report to return. */
  step: string;
  /** The report as an HTML page instead of a notebook. */
  html?: boolean;
}

export interface ReportResult {
  /** The executed notebook's JSON, or the page. */
  report: string;
  /** ipynb or html. */
  format: string;
}

export interface RerunParams {
  /** The run's id. */
  run: string;
  /** The notebook the run is of: local runs are recorded beside it (default: the notebook root's runs). */
  path?: string;
  /** The run's backend (default: the sidecar's configuration). */
  backend?: Backend;
  /** Also subscribe this WebSocket client to the run's progress. */
  subscribe?: boolean;
}

export interface Run {
  id: string;
  backend: string;
  pipeline: string;
  notebook: string;
  notebook_id: string;
  phase: string;
  message?: string;
  parameters: Record<string, string> | null;
  created: string;
  started?: string;
  finished?: string;
  steps: StepStatus[] | null;
  resumed_from?: string;
}

export interface RunParams {
  /** The notebook's path, relative to the notebook root (or absolute, inside it). */
  path?: string;
  /** The notebook's JSON as edited, when it differs from the saved file; path then says where it lives. */
  body?: unknown;
  /** Pipeline parameter overrides: name -> value, a Python literal (for a str parameter, any text). */
  params?: Record<string, string>;
  /** Run every step, even ones whose outputs are cached. */
  no_cache?: boolean;
  /** An earlier run of this notebook whose unchanged steps' outputs the new run reuses. */
  resume?: string;
  /** How many steps may run at once (default: one per core). */
  parallelism?: number;
  /** Where the run happens (default: the sidecar's configuration). */
  backend?: Backend;
  /** Also subscribe this WebSocket client to the run's progress (run.event, run.log), from its start. */
  subscribe?: boolean;
}

export interface RunRef {
  /** The run's id. */
  run: string;
  /** The notebook the run is of: local runs are recorded beside it (default: the notebook root's runs). */
  path?: string;
  /** The run's backend (default: the sidecar's configuration). */
  backend?: Backend;
}

export interface RunResult {
  /** The run's id. */
  id: string;
  /** Its state when it started. */
  run: Run | null;
}

export interface RunsParams {
  /** Only this notebook's runs (local runs are recorded beside it); default: the runs of the notebook root. */
  path?: string;
  /** Whose runs (default: the sidecar's configuration). */
  backend?: Backend;
}

export interface RunsResult {
  runs: (Run | null)[] | null;
}

export interface SecretEnv {
  secret: string;
  key: string;
  env: string;
}

export interface SetSettingsParams {
  /** The notebook's path, relative to the notebook root (or absolute, inside it). */
  path: string;
  /** The new metadata.datainsight: an object (name, description, image, volumes, workspace, marshal, step_defaults, timeout, parallelism, service_account, image_pull_secrets, ttl); null removes it. */
  settings: unknown;
}

export interface SettingProblem {
  field: string;
  severity: string;
  code: string;
  message: string;
}

export interface Settings {
  name?: string;
  description?: string;
  image?: string;
  volumes?: Volume[];
  workspace?: Workspace;
  marshal?: Marshal;
  step_defaults?: string[];
  timeout?: unknown;
  parallelism?: number;
  service_account?: string;
  image_pull_secrets?: string[];
  ttl?: unknown;
}

export interface SettingsParams {
  /** The notebook's path, relative to the notebook root (or absolute, inside it). */
  path: string;
}

export interface SettingsResult {
  /** metadata.datainsight as the notebook has it (null when it has none). */
  settings: unknown;
  /** The settings a run uses: these, with Kale's kubeflow_notebook metadata filling in where they are silent; a setting with an error is left out. */
  effective: Settings;
  /** Mistakes and notes about the settings, each naming its field (metadata.datainsight.volumes[1].mount_path). */
  problems: SettingProblem[] | null;
}

export interface Step {
  name: string;
  cells: number[] | null;
  after: string[] | null;
  ins: Record<string, string> | null;
  outs: string[] | null;
  params: string[] | null;
  metrics: string[] | null;
  imports: string[] | null;
  settings: StepSettings;
  langs: string[] | null;
}

export interface StepSettings {
  image?: string;
  env?: EnvVar[];
  secrets?: SecretEnv[];
  limits?: Record<string, string>;
  requests?: Record<string, string>;
  node_selector?: Record<string, string>;
  tolerations?: Toleration[];
  retry?: number;
  timeout?: unknown;
  cache_off?: boolean;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

export interface StepStatus {
  name: string;
  phase: string;
  message?: string;
  started?: string;
  finished?: string;
  exit_code?: number;
  cached?: boolean;
  cache_key?: string;
  metrics?: Record<string, unknown>;
  report?: string;
  attempt?: number;
}

export interface SubscribeResult {
  /** The topic the run's notifications are published to. */
  topic: string;
  /** The run's state now; a run that has ended sends nothing more. */
  run: Run | null;
}

export interface Toleration {
  key: string;
  value?: string;
  effect: string;
}

export interface Unavailable {
  /** The input's name (not bound: the kernel's value of that name, if any, is left as it was). */
  name: string;
  /** The step that should have saved it, or "parameter". */
  source: string;
  /** Why it could not be loaded: its producer failed, its file was removed, ... */
  reason: string;
}

export interface Unsavable {
  /** The variable's name. */
  name: string;
  /** Its type in the kernel, e.g. _io.TextIOWrapper. */
  type: string;
  /** The step that outputs it. */
  step: string;
  /** Why it cannot be passed between steps, and what to do instead. */
  reason: string;
}

export interface Volume {
  name: string;
  mount_path: string;
  type?: string;
  size?: string;
  storage_class?: string;
  access_mode?: string;
}

export interface Workspace {
  mode: string;
  pvc?: string;
  mount_path?: string;
}

/** The methods a client may call: params and result, by method name. */
export interface Methods {
  /** Analyses a notebook (saved, or as edited): its steps, the values that flow between them, and its diagnostics. */
  analyze: { params: AnalyzeParams; result: AnalyzeResult };
  /** Checks, in a running kernel of the notebook, that every value a step outputs can be passed to the steps that use it: lists those the runtime cannot save (open files, generators, locks, ...). */
  check: { params: CheckParams; result: CheckResult };
  /** Compiles a notebook into an Argo Workflow (YAML). A notebook with errors is refused; data.diagnostics has them. */
  compile: { params: CompileParams; result: CompileResult };
  /** Returns the sidecar's configuration as a client shows it: the default backend, the namespace (read-only), the object stores. */
  config: { params: Record<string, never>; result: ConfigResult };
  /** Describes a running kernel's Python (version, executable, installed distributions) and how the interpreter local runs use differs from it. */
  env: { params: EnvParams; result: EnvResult };
  /** Loads into a running kernel the inputs a step of a past local run loaded (the values, from the steps that saved them, and the step's parameters), bound under their names: the step can then be run, or its values inspected, as the run saw them. */
  explore: { params: ExploreParams; result: ExploreResult };
  /** Subscribes this WebSocket client to a saved notebook's analysis: notebook.analysis each time its file changes on disk. Returns the analysis now. */
  "notebook.subscribe": { params: NotebookRef; result: NotebookSubscription };
  /** Ends this WebSocket client's subscription to a notebook's analysis. */
  "notebook.unsubscribe": { params: NotebookRef; result: NotebookSubscription };
  /** Runs a notebook as a pipeline and returns at once with the run's id; follow it with subscribe, or run.subscribe. */
  run: { params: RunParams; result: RunResult };
  /** Cancels a run: its running steps are stopped. */
  "run.cancel": { params: RunRef; result: Run | null };
  /** Returns what a run carries out: its Argo Workflow as the cluster keeps it, or the pipeline a local run ran, in YAML. */
  "run.definition": { params: RunRef; result: DefinitionResult };
  /** Deletes a finished run and its records. */
  "run.delete": { params: RunRef; result: DeleteResult };
  /** Returns a run's state: its phase and each step's. */
  "run.get": { params: RunRef; result: Run | null };
  /** Returns a run's output so far: one step's, or every step's with each line prefixed "STEP | ". */
  "run.logs": { params: LogsParams; result: LogsResult };
  /** Returns a step's report: its cells as executed, with their outputs. */
  "run.report": { params: ReportParams; result: ReportResult };
  /** Starts a new run of a finished run's pipeline, with the same parameters; every step runs again. */
  "run.resubmit": { params: RerunParams; result: Run | null };
  /** Reruns the failed and downstream steps of a finished run, in place. */
  "run.retry": { params: RerunParams; result: Run | null };
  /** Subscribes this WebSocket client to a run's progress: run.event for the run's and its steps' state changes (from the run's start), run.log for its steps' output lines. */
  "run.subscribe": { params: RunRef; result: SubscribeResult };
  /** Ends this WebSocket client's subscription to a run. */
  "run.unsubscribe": { params: RunRef; result: SubscribeResult };
  /** Lists runs, newest first. */
  runs: { params: RunsParams; result: RunsResult };
  /** Returns a notebook's pipeline settings (its metadata.datainsight), those in effect, and their problems. */
  "settings.get": { params: SettingsParams; result: SettingsResult };
  /** Replaces a notebook's pipeline settings (its metadata.datainsight), changing nothing else in the file; settings with errors are refused, naming their fields, and nothing is written. */
  "settings.set": { params: SetSettingsParams; result: SettingsResult };
}

/** The notifications the server pushes over WebSocket: params, by method name. */
export interface Notifications {
  /** A subscribed notebook changed on disk: its analysis now. */
  "notebook.analysis": NotebookAnalysis;
  /** A run's or a step's state changed (type run or step), as `run --json` prints it. */
  "run.event": Event;
  /** A line a step printed. */
  "run.log": LogLine;
}

export type MethodName = keyof Methods;
export type NotificationName = keyof Notifications;
