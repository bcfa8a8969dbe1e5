// Module zips as golang.org/x/mod/zip defines them: which files belong (checkFiles, checkDir, checkZip),
// writing them (createZip, createZipFromDir) and extracting them (unzip). The pieces live in zip*.ts.

export {
  checkDir,
  checkFiles,
  checkZip,
  decodeModulePath,
  isVendoredPackage,
  readZipModuleVersion,
  MAX_GO_MOD,
  MAX_LICENSE,
  MAX_ZIP_FILE,
  type CheckedFiles,
  type ModuleFile,
  type ModuleFileType,
  type ModulePathInput,
} from './zipcheck.js';
export { createZip, createZipFromDir } from './zipcreate.js';
export { unzip } from './zipextract.js';
export { ZipError, type FileProblem, type ZipErrorCode } from './ziperror.js';
