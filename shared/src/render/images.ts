/**
 * Image files as the render reads them. The definition (place, branch-name rule, content) is
 * shared with the image-deployer and lives in ../images/image-file.ts; this module only
 * re-exports it under the names the render uses.
 */
export {
  assertBranchName,
  decodeBranchFileName,
  encodeBranchFileName,
  imageFilePath,
  imageReference,
  imageSourcePattern,
  type ImageFile,
  type ImageFile as ImageRecord
} from '../images/image-file.js'
