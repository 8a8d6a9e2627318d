package dev.syllabus.starter;

/**
 * The outcome of one check of {@code syllabus doctor}.
 *
 * @param name what was checked, e.g. {@code temporal} or {@code permission jobs.batch}
 * @param status whether it passed
 * @param detail what was found; for a failure, what is wrong and what to do about it; for a skip,
 *     why the check could not apply
 */
record Check(String name, Status status, String detail) {

  /** Lower case: these are what {@code --json} prints. */
  enum Status {
    ok,
    fail,
    skip
  }

  static Check ok(String name, String detail) {
    return new Check(name, Status.ok, detail);
  }

  static Check fail(String name, String detail) {
    return new Check(name, Status.fail, detail);
  }

  static Check skip(String name, String detail) {
    return new Check(name, Status.skip, detail);
  }

  /** {@code ok name: detail}, {@code FAIL name: detail} or {@code skip name: detail}. */
  String line() {
    String label =
        switch (status) {
          case ok -> "ok  ";
          case fail -> "FAIL";
          case skip -> "skip";
        };
    return label + " " + name + ": " + detail;
  }
}
