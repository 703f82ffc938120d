/** Pre-tokenized calibration and evaluation data: JSONL, JSON (named splits) and Parquet. */
package dev.calibra.storage.tokens;
