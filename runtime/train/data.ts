// The data checks the training code uses, from runtime/data/ (their home): training and
// validation columns, values for one run, row counts.

export { trainingColumns, trainingSets, rowCount, feedValues, type Column } from '../data/index.js';
