package dev.calibra.bench.quality;

/**
 * One line of the quality table.
 *
 * @param variant "scheme" for the main rows, or the ablation it is ("no LoRA-Rounding", …)
 * @param gptq the GPTQ perplexity shared/README.md gives for the same scheme, or null
 * @param target the perplexity issue 3 asks CBQ to reach, or null
 */
record QualityRow(String model, String scheme, String variant, double rtn, double cbq,
    double calibrationSeconds, Double gptq, Double target) {}
