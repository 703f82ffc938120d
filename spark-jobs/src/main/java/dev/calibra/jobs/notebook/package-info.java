/**
 * Calibra from a notebook (Zeppelin's {@code %spark}, spark-shell): the command line's runs on
 * the notebook's own Spark context, with their results as values and as Zeppelin tables.
 */
package dev.calibra.jobs.notebook;
