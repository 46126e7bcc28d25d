// --data X.npy --labels Y.npy for eval and fit: the dataset, with its errors naming the files.
import { DataError, NpyError } from '../errors.js';
import type { Dataset } from '../train/data.js';
import { CliError } from './errors.js';
import { readBytes } from './files.js';

/** The labelled samples; a DataError or NpyError (which say "X" and "y") says which file each is. */
export async function loadDataset(data: string, labels: string): Promise<Dataset> {
  const [x, y, { datasetFromNpy }] = await Promise.all([readBytes(data), readBytes(labels), import('../train/data.js')]);
  try {
    return datasetFromNpy(x, y);
  } catch (e) {
    if (!(e instanceof DataError || e instanceof NpyError)) throw e;
    throw new CliError(`${e.message} (X is --data ${data}, y is --labels ${labels})`);
  }
}
