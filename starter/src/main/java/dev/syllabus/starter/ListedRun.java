package dev.syllabus.starter;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * One run as {@code syllabus list} shows it: what its search attributes said last, and what
 * Temporal says of its workflow, which wins once the workflow has closed (a terminated run never
 * got to say so in its own attributes).
 *
 * @param runId the run id (the workflow id)
 * @param recipe the recipe name, or null when the run never said
 * @param state where it stands
 * @param phase the phase running (for an ended run: the last one it ran), or null
 * @param step the global step reached, or null
 * @param t normalized time, or null
 * @param started when the run started (its first workflow run, across continue-as-new)
 * @param ended when it ended, or null while it runs
 */
record ListedRun(
    String runId,
    String recipe,
    State state,
    String phase,
    Long step,
    Double t,
    Instant started,
    Instant ended) {

  /** Where a run stands in the list: the run's own states, and the ends only Temporal knows. */
  enum State {
    RUNNING("ExecutionStatus = 'Running' AND (SyllabusState IS NULL OR SyllabusState != 'PAUSED')"),
    PAUSED("ExecutionStatus = 'Running' AND SyllabusState = 'PAUSED'"),
    COMPLETED("ExecutionStatus = 'Completed'"),
    FAILED("ExecutionStatus = 'Failed'"),
    CANCELED("ExecutionStatus = 'Canceled'"),
    /** Ended from outside ({@code temporal workflow terminate}): the run could not say so. */
    TERMINATED("ExecutionStatus = 'Terminated'"),
    TIMED_OUT("ExecutionStatus = 'TimedOut'");

    /** The visibility query that selects runs in this state. */
    final String clause;

    State(String clause) {
      this.clause = clause;
    }

    /** {@code text} in any case, e.g. {@code paused}; BadInput naming the valid ones. */
    static State parse(String text) {
      String wanted = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
      return Arrays.stream(values())
          .filter(s -> s.name().equals(wanted))
          .findFirst()
          .orElseThrow(
              () ->
                  new Exit.BadInput(
                      "--state: unknown state '"
                          + text
                          + "'; valid: "
                          + String.join(", ", Arrays.stream(values()).map(State::name).toList())));
    }

    /**
     * The state shown for a workflow in {@code status}, whose own {@code SyllabusState} is {@code
     * said} (null before it first said anything).
     */
    static Optional<State> of(WorkflowExecutionStatus status, String said) {
      return switch (status) {
        case WORKFLOW_EXECUTION_STATUS_RUNNING ->
            Optional.of("PAUSED".equals(said) ? PAUSED : RUNNING);
        case WORKFLOW_EXECUTION_STATUS_COMPLETED -> Optional.of(COMPLETED);
        case WORKFLOW_EXECUTION_STATUS_FAILED -> Optional.of(FAILED);
        case WORKFLOW_EXECUTION_STATUS_CANCELED -> Optional.of(CANCELED);
        case WORKFLOW_EXECUTION_STATUS_TERMINATED -> Optional.of(TERMINATED);
        case WORKFLOW_EXECUTION_STATUS_TIMED_OUT -> Optional.of(TIMED_OUT);
        // Continued as new: the run goes on in its next workflow run, listed on its own.
        default -> Optional.empty();
      };
    }
  }

  /**
   * The visibility query for runs of the curriculum workflow (not their phases), with a state and a
   * recipe when given ({@code recipe} is a recipe name: no quotes).
   */
  static String query(String workflowType, State state, String recipe) {
    StringBuilder query =
        new StringBuilder("WorkflowType = '")
            .append(workflowType)
            .append("' AND ExecutionStatus != 'ContinuedAsNew'");
    if (state != null) {
      query.append(" AND ").append(state.clause);
    }
    if (recipe != null) {
      query.append(" AND SyllabusRecipe = '").append(recipe).append('\'');
    }
    return query.toString();
  }

  /** How long it ran: until it ended, or until {@code now} while it runs. */
  Duration duration(Instant now) {
    return Duration.between(started, ended != null ? ended : now);
  }

  private static final DateTimeFormatter STARTED =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT);

  /** A table for people, newest first as given; times in {@code zone}. */
  static String table(List<ListedRun> runs, Instant now, ZoneId zone) {
    String format = "%-" + width(runs) + "s  %-16s  %-10s  %-12s  %7s  %5s  %-19s  %s%n";
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            Locale.ROOT,
            format,
            "RUN",
            "RECIPE",
            "STATE",
            "PHASE",
            "STEP",
            "T",
            "STARTED",
            "DURATION"));
    for (ListedRun run : runs) {
      out.append(
          String.format(
              Locale.ROOT,
              format,
              run.runId(),
              orDash(run.recipe()),
              run.state(),
              orDash(run.phase()),
              run.step() == null ? "–" : run.step().toString(),
              run.t() == null ? "–" : String.format(Locale.ROOT, "%.3f", run.t()),
              STARTED.format(run.started().atZone(zone)),
              format(run.duration(now)) + (run.ended() == null ? " so far" : "")));
    }
    return out.toString();
  }

  private static int width(List<ListedRun> runs) {
    return Math.max(3, runs.stream().mapToInt(r -> r.runId().length()).max().orElse(3));
  }

  private static String orDash(String text) {
    return text == null || text.isEmpty() ? "–" : text;
  }

  /** {@code 45s}, {@code 3m05s}, {@code 2h07m}, {@code 3d04h}. */
  static String format(Duration d) {
    long s = Math.max(0, d.getSeconds());
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
    if (s < 86400) {
      return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60);
    }
    return String.format(Locale.ROOT, "%dd%02dh", s / 86400, s % 86400 / 3600);
  }

  /** The runs as {@code list --json} prints them: one object each, times in ISO-8601 UTC. */
  static String json(List<ListedRun> runs, Instant now) {
    ArrayNode array = RunView.JSON.createArrayNode();
    for (ListedRun run : runs) {
      ObjectNode o = array.addObject();
      o.put("runId", run.runId());
      o.put("recipe", run.recipe());
      o.put("state", run.state().name());
      o.put("phase", run.phase());
      o.put("step", run.step());
      o.put("t", run.t());
      o.put("started", run.started().toString());
      o.put("ended", run.ended() == null ? null : run.ended().toString());
      o.put("durationSeconds", run.duration(now).toMillis() / 1000.0);
    }
    try {
      return RunView.JSON.writeValueAsString(array);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
