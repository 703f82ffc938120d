/**
 * Every byte format Calibra reads or writes, through the Hadoop FileSystem API so that local
 * paths, file:// and hdfs:// behave alike. {@link dev.calibra.storage.FileLocation} resolves what
 * a user typed; {@link dev.calibra.storage.FileContentException} reports a file whose content is
 * wrong, naming the file and the place in it.
 */
package dev.calibra.storage;
