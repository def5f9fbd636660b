/**
 * Inline masking: methods a decision may name, the per-result-set row masker the gateway runs
 * (over DataRows and, through CopyOutStream, COPY output), and the card-number detector used as
 * a backstop and for statement text.
 */
export { createMaskerFactory, type MaskerOptions } from './row-masker.js';
export {
  MASK_METHODS,
  REDACTED,
  checkMaskSpec,
  resolveMethod,
  type MaskMethod,
} from './methods.js';
export {
  CARD_NUMBER_TOKEN,
  findCardNumbers,
  isCardDigits,
  maskCardNumbers,
  maskCardNumbersInJson,
} from './detect.js';
export { maskNotificationResponse } from './messages.js';
export {
  CopyOutStream,
  DEFAULT_COPY_OPTIONS,
  copyResultColumns,
  type CopyChunk,
} from './copy-masker.js';
export type { MaskerFactory, MaskStats, ResultField, RowMasker } from './types.js';
