/** Core's HTTP client for sources; see `createHttpClient`. */
export { createHttpClient, DEFAULT_HTTP_RETRIES, DEFAULT_HTTP_TIMEOUTS, MAX_REDIRECTS, registerCredential } from './client.js';
export { DEFAULT_HTTP_LIMITS, type HttpLimits, type TransferPurpose } from './limits.js';
export { isLoopbackHost } from './loopback.js';
export { matchesNoProxy } from './proxy.js';
export {
  createSourceHttpClient,
  HTTP_SOURCE_OPTIONS,
  HTTP_SOURCE_OPTION_ROLES,
  type HttpSourceOptions,
  httpClientOptionsOf,
  readCertificates,
  validateHttpSourceOptions,
} from './registry-options.js';
export { abortableSleep, isRetryableResponse, parseRetryAfter, type RetryCandidate } from './retry.js';
export { type FailedAnswer, malformedAnswerError, type StatusWording, statusError } from './status-errors.js';
export type {
  FetchOptions,
  HttpClient,
  HttpClientOptions,
  HttpCredentials,
  HttpRequestOptions,
  HttpResponse,
  HttpTimeouts,
  TransferProgress,
} from './types.js';
