// file-url.ts for the web build of `edgeprune/runtime` (scripts/build-dist.mjs swaps it in): no
// file system there, so the loader fetches every URL (a file: URL then fails as fetch fails).

export const readFileUrlSync = (): undefined => undefined;
export const readFileUrl = readFileUrlSync;
/** No files to read: create() fetches a model given by name. */
export const readModelFile = (): Promise<undefined> => Promise.resolve(undefined);
