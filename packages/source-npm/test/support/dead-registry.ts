/** A registry URL nothing listens on (port 9, "discard"): requests to it fail at once with ECONNREFUSED. */
export const DEAD_REGISTRY = 'http://127.0.0.1:9/';
