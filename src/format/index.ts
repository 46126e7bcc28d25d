// The edgeprune model artifact (.epm): a compact native container for a Graph. layout.ts
// documents the bytes; write.ts and read.ts are the two directions.
export { writeArtifact } from './write.js';
export { readArtifact, isArtifact } from './read.js';
export { FORMAT_VERSION, Encoding } from './layout.js';
