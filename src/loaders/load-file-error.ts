// LoadFileError lives with every other error of the package (src/errors.ts); re-exported here for
// the loaders that import it from beside them.
export { LoadFileError, type LoadFileErrorCode } from '../errors.js';
