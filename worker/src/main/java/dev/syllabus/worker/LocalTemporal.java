package dev.syllabus.worker;

import java.util.Optional;

/**
 * A Temporal service that {@code syllabus dev} and {@code syllabus demo} run on this machine: the
 * Temporal CLI's dev server ({@link CliDevServer}) when {@code temporal} is installed, else the
 * Java SDK's in-process test server ({@link EmbeddedTemporal}).
 */
public interface LocalTemporal extends AutoCloseable {

  /** The frontend's address, {@code host:port}. */
  String address();

  /** Where the Web UI is, when this server has one. */
  Optional<String> webUi();

  /** What it is, for a start-up line: "Temporal CLI dev server 1.9.1, state in …". */
  String description();

  @Override
  void close();
}
