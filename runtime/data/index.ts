// Data readers: training and validation data (inline or in CSV/JSON files) as checked columns,
// values for one run (predictions, feeds), and initial values from files. Called by the stages
// and commands that need data, never by the loader: the model only describes its data.

export {
  arrayColumn,
  checkColumn,
  columnDType,
  rowCount,
  trainingColumns,
  trainingSets,
  type ArraySource,
  type Column,
} from './columns.js';
export { feedValues } from './feed.js';
export { checkDataHeaders } from './sources.js';
export { checkInitFiles, initFileValues, readInitFile } from './init-file.js';
export { readDataFile } from './files.js';
export { parseCsv, type Csv } from './csv.js';
export { decodeNpy, encodeNpy, readNpy, readNpyHeader, type NpyHeader } from './npy.js';
