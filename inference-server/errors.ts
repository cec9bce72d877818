// Every error the server answers with, in one catalogue, as fastify's errors.js keeps its own: each
// message has an id, a code (which sets the HTTP status) and a template whose {{name}} placeholders
// are filled from the values given where it is raised. Domain code throws `fail(id, values, field)`;
// one handler (http/app.ts) turns it into
//   {"error": "<message>", "code": "<CODE>", "field": "<where>"}
// Anything else becomes a 500 with no detail: a stack trace never leaves the process.

export const ERRORS = {
  BAD_REQUEST: 400,
  INVALID_JSON: 400,
  UNKNOWN_FIELD: 400,
  MISSING_FIELD: 400,
  INVALID_INPUT_NAME: 400,
  INVALID_DATATYPE: 400,
  INVALID_SHAPE: 400,
  INVALID_DATA: 400,
  NON_FINITE: 400,
  INVALID_BASE64: 400,
  INVALID_IMAGE: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  MODEL_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  REQUEST_TIMEOUT: 408,
  HEADERS_TOO_LARGE: 431,
  TOO_MANY_REQUESTS: 429,
  QUEUE_FULL: 503,
  NOT_READY: 503,
  HELD: 503,
  SHUTTING_DOWN: 503,
  WORKER_LOST: 503,
  INFERENCE_TIMEOUT: 504,
  DECODE_TIMEOUT: 504,
  INFERENCE_FAILED: 500,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** Every message, by id: [code, template]. */
export const MESSAGES = {
  shuttingDown: ['SHUTTING_DOWN', 'the server is shutting down'],
  queueFull: ['QUEUE_FULL', 'the inference queue is full ({{maxQueue}} instances); retry shortly'],
  badMultipart: ['BAD_REQUEST', 'the multipart form cannot be read: {{reason}}'],
  uploadTooLarge: ['PAYLOAD_TOO_LARGE', 'the uploaded file is larger than {{limit}} bytes'],
  tooManyFormFields: ['PAYLOAD_TOO_LARGE', 'a form may carry at most {{max}} fields besides its files'],
  tooManyUploads: ['PAYLOAD_TOO_LARGE', 'at most {{max}} files may be uploaded in one request'],
  stowType: ['UNSUPPORTED_MEDIA_TYPE', 'STOW-RS takes multipart/related; type="application/dicom", not type {{type}}'],
  tooManyStudyParts: ['PAYLOAD_TOO_LARGE', 'at most {{max}} instances may be stored in one request'],
  dicomwebOff: ['NOT_FOUND', 'this model takes no studies by DICOMweb (spec.integration.dicom is not set)'],
  noUploads: ['MISSING_FIELD', 'the form has no file: upload PNG or JPEG images as its file parts'],
  jobsFull: ['QUEUE_FULL', 'the job store is full ({{capacity}} jobs not yet expired); retry shortly'],
  jobQuota: ['TOO_MANY_REQUESTS', 'this API key holds {{held}} jobs not yet expired, its quota (--job-quota); fetch or cancel some, or retry once they expire'],
  jobNotFound: ['NOT_FOUND', 'no job with this id for this API key (finished jobs are kept a while, and none survives a server restart)'],
  jobNotCancellable: ['CONFLICT', 'the job is {{state}}: only a queued job can be cancelled'],
  inferenceTimeout: ['INFERENCE_TIMEOUT', 'inference did not finish within {{timeoutMs}} ms'],
  inferenceFailed: ['INFERENCE_FAILED', 'the model failed to run: {{reason}}'],
  workerLost: ['WORKER_LOST', 'the worker thread exited; retry'],
  workerLostWhileRunning: ['WORKER_LOST', '{{error}} while running this request; retry'],
  shapeNotPositive: ['INVALID_SHAPE', 'shape must be an array of positive whole numbers, got {{got}}'],
  rankMismatch: ['INVALID_SHAPE', 'input "{{name}}" needs {{rank}} dimensions {{expected}}, got {{gotRank}} {{got}}'],
  dimensionMismatch: ['INVALID_SHAPE', 'input "{{name}}" dimension {{dimension}} must be {{want}} {{expected}}, got {{got}}'],
  jsonTooDeep: ['INVALID_JSON', 'the JSON nests deeper than {{max}} levels'],
  jsonTooManyContainers: ['PAYLOAD_TOO_LARGE', 'the JSON holds more than {{max}} arrays and objects'],
  nestedTooDeeply: ['INVALID_DATA', 'data is nested too deeply'],
  valueCountMismatch: ['INVALID_DATA', 'input "{{name}}" with shape {{shape}} needs {{n}} values, got {{got}}'],
  notBoolean: ['INVALID_DATA', 'value {{index}} of "{{name}}" must be true or false'],
  notNumber: ['INVALID_DATA', 'value {{index}} of "{{name}}" must be a number, got {{got}}'],
  notFinite: ['NON_FINITE', 'value {{index}} of "{{name}}" is not finite'],
  notWhole: ['INVALID_DATA', 'value {{index}} of "{{name}}" must be a whole number'],
  outOfRange: ['INVALID_DATA', 'value {{index}} of "{{name}}" must be a whole number from {{min}} to {{max}}'],
  overflowsFp32: ['NON_FINITE', 'value {{index}} of "{{name}}" overflows FP32'],
  byteCountMismatch: ['INVALID_DATA', 'input "{{name}}" with shape {{shape}} needs {{bytes}} bytes of {{datatype}}, got {{got}}'],
  modelNotFound: ['MODEL_NOT_FOUND', 'no model named "{{model}}"; this server serves "{{served}}"'],
  versionNotFound: ['MODEL_NOT_FOUND', 'model "{{model}}" has no version "{{version}}"; it serves "{{served}}"'],
  bodyTooLarge: ['PAYLOAD_TOO_LARGE', 'the body is larger than the limit of {{limit}} bytes'],
  decodeBudget: ['PAYLOAD_TOO_LARGE', 'decoding {{what}} needs {{need}} bytes, more than is left of the request\'s decode budget of {{budget}} bytes (--decode-budget, CLINOPS_DECODE_BUDGET)'],
  decodeBusy: ['TOO_MANY_REQUESTS', 'this API key has {{held}} requests decoding or waiting to, its share of the decode threads (--decode-per-key); retry shortly'],
  decodeTimeout: ['DECODE_TIMEOUT', 'the images were not decoded within {{timeoutMs}} ms (--timeout)'],
  decodeThreadLost: ['WORKER_LOST', 'the decode thread stopped (exit code {{code}}) while decoding this request; retry'],
  decodeFrames: ['PAYLOAD_TOO_LARGE', '{{what}} gives {{frames}} frames, more than is left of the {{max}} a request may give the model'],
  unsupportedEncoding: ['UNSUPPORTED_MEDIA_TYPE', 'unsupported Content-Encoding "{{encoding}}"; send identity, gzip or deflate'],
  bodyLongerThanDeclared: ['BAD_REQUEST', 'the body is longer than its Content-Length'],
  requestTimeout: ['REQUEST_TIMEOUT', 'the request did not arrive whole within {{timeoutMs}} ms (--read-timeout)'],
  headersTooLarge: ['HEADERS_TOO_LARGE', 'the request\'s headers are larger than the server reads (16 KiB)'],
  requestMalformed: ['BAD_REQUEST', 'the request is not well-formed HTTP/1.1'],
  requestAborted: ['BAD_REQUEST', 'the request was aborted'],
  requestUnreadable: ['BAD_REQUEST', 'the request could not be read'],
  bodyNotDecodable: ['BAD_REQUEST', 'the body is not valid {{encoding}}'],
  badInferenceHeaderLength: ['BAD_REQUEST', "Inference-Header-Content-Length must be the JSON header's length (1 to {{max}})"],
  explainUnknown: ['BAD_REQUEST', 'explain "{{given}}" is not known; explain=occlusion is'],
  explainGrid: ['BAD_REQUEST', 'grid must be a whole number from 2 to 16 (patches a side)'],
  explainNeedsImage: ['BAD_REQUEST', 'explain=occlusion explains image and DICOM predictions, not tensor instances'],
  explainTooMany: ['BAD_REQUEST', 'an occlusion map of {{images}} images on a {{grid}}×{{grid}} grid needs more than {{max}} runs; send fewer images or a smaller grid'],
  dicomUnreadable: ['BAD_REQUEST', 'the DICOM file cannot be read: {{reason}}'],
  dicomTransferSyntax: ['UNSUPPORTED_MEDIA_TYPE', 'the DICOM transfer syntax {{syntax}} is not supported; send {{supported}}'],
  dicomModality: ['BAD_REQUEST', 'the study\'s Modality (0008,0060) is {{given}}; this model takes {{expected}}'],
  dicomBodyPart: ['BAD_REQUEST', 'the study\'s Body Part Examined (0018,0015) is {{given}}; this model takes {{expected}}'],
  dicomPixels: ['UNSUPPORTED_MEDIA_TYPE', 'the DICOM pixels cannot be used: {{what}}'],
  unsupportedImageType: ['UNSUPPORTED_MEDIA_TYPE', 'unsupported image type "{{type}}"; send image/png, image/jpeg or application/dicom'],
  unsupportedCharset: ['UNSUPPORTED_MEDIA_TYPE', 'unsupported charset "{{charset}}"; send UTF-8 JSON'],
  bodyEmpty: ['INVALID_JSON', 'the body is empty; send a JSON object'],
  unsupportedContentType: ['UNSUPPORTED_MEDIA_TYPE', 'send Content-Type: application/json, or image/png or image/jpeg for an image where the route takes one (got "{{type}}")'],
  badPathEncoding: ['BAD_REQUEST', 'the path is not valid percent-encoding'],
  noRoute: ['NOT_FOUND', 'no route {{method}} {{path}}'],
  methodNotAllowed: ['METHOD_NOT_ALLOWED', '{{method}} is not allowed on {{pattern}}'],
  auditUnavailable: ['NOT_READY', 'predictions are refused while their audit record cannot be kept ({{reason}})'],
  apiKeyRequired: ['UNAUTHENTICATED', 'an API key is required: send X-API-Key or Authorization: Bearer'],
  apiKeyInvalid: ['FORBIDDEN', 'the API key is not valid'],
  monitoringKeyRequired: ['FORBIDDEN', 'this route takes the monitoring key alone, and this server has none (--monitoring-key-file): shadow traffic stays off'],
  apiKeyScope: ['FORBIDDEN', 'the API key "{{id}}" may not {{what}}: it lacks the "{{scope}}" scope (its scopes: {{scopes}})'],
  internal: ['INTERNAL', 'internal error'],
  badCount: ['BAD_REQUEST', '{{field}} must be a whole number ≥ 0, given once'],
  tensorsOnly: ['UNSUPPORTED_MEDIA_TYPE', 'send tensors as JSON or with the binary tensor extension'],
  unknownField: ['UNKNOWN_FIELD', 'unknown field "{{field}}"; allowed: {{allowed}}'],
  shadowBodyNotObject: ['INVALID_JSON', 'the body must be a JSON object {"sha256", "urls", "token", "ttlSeconds"}'],
  shadowShaInvalid: ['BAD_REQUEST', 'sha256 must be 64 lowercase hex digits: the candidate version the copies go to'],
  shadowUrlsInvalid: ['BAD_REQUEST', 'urls must be an array of at most {{max}} monitoring endpoints'],
  shadowUrlInvalid: ['BAD_REQUEST', 'a url must be http://host:port with no path'],
  shadowTokenInvalid: ['BAD_REQUEST', 'token must be a string of at most 512 characters'],
  shadowServerNameInvalid: ['BAD_REQUEST', 'serverName must be a DNS name'],
  shadowNoCa: ['BAD_REQUEST', 'an https shadow target needs the CA to verify it: start the server with --tls-ca'],
  shadowTtlInvalid: ['BAD_REQUEST', 'ttlSeconds must be a whole number from 1 to {{max}}'],
  predictBodyNotObject: ['INVALID_JSON', 'the body must be a JSON object {"instances": [...]} or {"images": [...]}'],
  instancesAndImages: ['BAD_REQUEST', 'send either instances or images, not both'],
  imagesEmpty: ['INVALID_DATA', 'images must be a non-empty array of base64 PNG or JPEG'],
  tooManyImages: ['INVALID_DATA', 'at most {{max}} images per request'],
  instancesMissing: ['MISSING_FIELD', 'instances is required: an array of inputs, one per prediction'],
  instancesEmpty: ['INVALID_DATA', 'instances must be a non-empty array'],
  tooManyInstances: ['INVALID_DATA', 'at most {{max}} instances per request'],
  multiInputModel: ['BAD_REQUEST', 'this model has {{count}} inputs; use POST /v2/models/{name}/infer'],
  dynamicInnerDimensions: ['BAD_REQUEST', 'input "{{name}}" has dynamic inner dimensions; use POST /v2/models/{name}/infer with an explicit shape'],
  noImagePreprocessing: ['BAD_REQUEST', 'this model takes tensors: it has no image preprocessing configured; send {"instances": [...]}'],
  inferBodyNotObject: ['INVALID_JSON', 'the body must be a JSON object {"inputs": [...]}'],
  inputsMissing: ['MISSING_FIELD', 'inputs must be a non-empty array of tensors'],
  inputNotObject: ['INVALID_DATA', 'each input must be an object {name, shape, datatype, data}'],
  unknownInput: ['INVALID_INPUT_NAME', 'no input named {{given}}; this model takes {{expected}}'],
  inputTwice: ['INVALID_INPUT_NAME', 'input "{{name}}" is given twice'],
  datatypeMismatch: ['INVALID_DATATYPE', 'input "{{name}}" is {{expected}}, got {{got}}'],
  inputWithoutData: ['MISSING_FIELD', 'input "{{name}}" has no data'],
  inputRequired: ['MISSING_FIELD', 'input "{{name}}" is required'],
  batchSizesDiffer: ['INVALID_SHAPE', 'every input must have the same batch size (first dimension)'],
  outputsNotArray: ['INVALID_DATA', 'outputs must be an array of {name}'],
  unknownOutput: ['INVALID_INPUT_NAME', 'no output named {{given}}'],
  feedbackBodyNotObject: ['INVALID_JSON', 'the body must be a JSON object {"predictionId", "label"}'],
  predictionIdMissing: ['MISSING_FIELD', 'predictionId is required: the id of a prediction (the id a prediction answer carries)'],
  subgroupUnknown: ['INVALID_DATA', 'the subgroup header must be one of this model\'s subgroups ({{allowed}}); got {{given}}'],
  predictionIdInvalid: ['INVALID_DATA', 'predictionId must be a prediction id: 1 to 140 characters of letters, digits and . _ : -'],
  unknownLabel: ['INVALID_DATA', 'label must be one of {{labels}}'],
  binarySizeDoesNotFit: ['INVALID_DATA', 'binary_data_size {{size}} does not fit the {{left}} bytes left'],
  binaryBytesLeftOver: ['INVALID_DATA', '{{count}} bytes after the JSON header belong to no input'],
  notBase64String: ['INVALID_BASE64', 'must be a base64 string'],
  invalidBase64: ['INVALID_BASE64', 'is not valid base64'],
  unsupportedImageFormat: ['INVALID_IMAGE', 'unsupported image format{{format}}; send PNG, JPEG or DICOM'],
  imageUndecodable: ['INVALID_IMAGE', 'the {{format}} image could not be decoded: {{reason}}'],
  imageSizeMismatch: ['INVALID_IMAGE', 'the image decoded to {{got}} values, expected {{expected}}'],
  notReady: ['NOT_READY', 'not ready: {{reason}}'],
  noWorkerAlive: ['NOT_READY', 'not ready: no inference worker is alive (one is being replaced)'],
  modelNotReady: ['NOT_READY', 'the model is not ready: {{reason}}'],
  draining: ['NOT_READY', 'the server is shutting down'],
  held: ['HELD', 'the model is held: {{reason}}; it takes studies from the PACS and answers nothing until a reviewer\'s acknowledgement releases it'],
  holdBody: ['INVALID_DATA', 'the body must be {"held": true|false, "reason": a string of at most 300 characters}'],
  bodyNotJson: ['INVALID_JSON', 'the body is not valid JSON'],
  noFeatureReference: ['NOT_FOUND', 'no feature reference is configured: start the server with --feature-reference (CLINOPS_FEATURE_REFERENCE_FILE)'],
  inferenceHeaderNotJson: ['INVALID_JSON', 'the inference header is not valid JSON'],
} as const satisfies Record<string, readonly [ErrorCode, string]>;

export type MessageId = keyof typeof MESSAGES;

export class ServerError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ServerError';
    this.status = ERRORS[code];
  }

  toJSON(): { error: string; code: ErrorCode; field?: string } {
    return this.field === undefined ? { error: this.message, code: this.code } : { error: this.message, code: this.code, field: this.field };
  }
}

/** The message of an id with its placeholders filled; a placeholder without a value stays as written. */
export function render(id: MessageId, values: Record<string, string | number | undefined> = {}): string {
  return MESSAGES[id][1].replace(/\{\{(\w+)\}\}/g, (whole, k: string) => (k in values ? String(values[k] ?? '') : whole));
}

/** The error to throw for a message id: its code and status from the catalogue, its text from the template. */
export function fail(id: MessageId, values: Record<string, string | number | undefined> = {}, field?: string, headers?: Record<string, string>): ServerError {
  return new ServerError(MESSAGES[id][0], render(id, values), field, headers);
}
