// Entry of `npm start` (bundled to dist/main-job.mjs): runs the main job, errors as one line.
import { mainJob } from './main-job.js';

try {
  await mainJob();
} catch (e) {
  console.error(`edgeprune: ${(e as Error).message}`);
  if (process.env.EDGEPRUNE_DEBUG === '1') console.error(e);
  process.exitCode = 1;
}
