// The bounds of fetch-model (the init step that downloads an https model), shared by the operator, which
// sizes the pod's model volume to them, and the CLI, which enforces them while it downloads.

/** The largest model file fetched (the model volume's sizeLimit too). */
export const MODEL_FETCH_MAX_BYTES = 4 * 1024 ** 3;
/** The model volume's sizeLimit: the file, and its partial copy while it is verified (renamed, not copied). */
export const MODEL_VOLUME_SIZE_LIMIT = '4Gi';
/** How long a download may take. */
export const MODEL_FETCH_TIMEOUT_MS = 10 * 60_000;
