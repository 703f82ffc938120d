package dev.calibra.tokenizers;

/**
 * A stretch of text on its way to the BPE model.
 *
 * @param atInputStart whether it begins where the encoded text begins: Metaspace's "first"
 *     scheme adds its space only there, not after a special token
 */
record TextPiece(String text, boolean atInputStart) {}
