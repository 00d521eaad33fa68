/** A token given as its digest (`npm run hash-token -w backend -- <token>`), never the token itself. */
export const HASHED_TOKEN = /^sha256:[0-9a-f]{64}$/i;
