package dev.syllabus.activities.record;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.syllabus.workflows.recipe.Recipe;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads run records ({@code record.json}) and says plainly why a file is not one. */
public final class RunRecords {

  static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** A file that is not a run record this version reads; the message names the file and why. */
  public static final class NotARecord extends Exception {
    public NotARecord(Path file, String why) {
      super(file + ": " + why);
    }
  }

  private RunRecords() {}

  /** The record of run {@code runId} in the artifact store at {@code storeRoot}. */
  public static Path fileOf(Path storeRoot, String runId) {
    return storeRoot.resolve(runId).resolve(RunRecord.FILE_NAME);
  }

  /** Reads a record; a folder is read as the run folder holding it. */
  public static RunRecord read(Path file) throws NotARecord {
    Path path = Files.isDirectory(file) ? file.resolve(RunRecord.FILE_NAME) : file;
    JsonNode tree;
    try {
      tree = JSON.readTree(Files.readString(path));
    } catch (NoSuchFileException e) {
      throw new NotARecord(path, "no such file");
    } catch (JsonProcessingException e) {
      throw new NotARecord(
          path, "not JSON (line " + e.getLocation().getLineNr() + "): " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new NotARecord(path, "cannot be read: " + e.getMessage());
    }
    if (tree == null || !tree.isObject()) {
      throw new NotARecord(path, "not a Syllabus run record (not a JSON object)");
    }
    JsonNode schema = tree.get("schema");
    if (schema == null || !schema.isTextual()) {
      throw new NotARecord(path, "not a Syllabus run record (no \"schema\" field)");
    }
    if (!RunRecord.SCHEMA.equals(schema.asText())) {
      throw new NotARecord(
          path,
          "run record schema \""
              + schema.asText()
              + "\" is not one this version reads ("
              + RunRecord.SCHEMA
              + ")");
    }
    try {
      return JSON.treeToValue(tree, RunRecord.class);
    } catch (JsonProcessingException e) {
      throw new NotARecord(path, "a run record with a broken field: " + e.getOriginalMessage());
    }
  }

  /**
   * The recipe the run ran, as its record keeps it ({@code resolvedRecipe}).
   *
   * @throws NotARecord when the record has none, or one this version cannot read
   */
  public static Recipe recipeOf(Path file, RunRecord record) throws NotARecord {
    if (record.resolvedRecipe() == null || !record.resolvedRecipe().isObject()) {
      throw new NotARecord(file, "a run record without its recipe (resolvedRecipe)");
    }
    try {
      return JSON.treeToValue(record.resolvedRecipe(), Recipe.class);
    } catch (JsonProcessingException e) {
      throw new NotARecord(
          file, "a run record whose recipe cannot be read: " + e.getOriginalMessage());
    }
  }

  /** The record as the JSON this version writes. */
  public static String toJson(RunRecord record) {
    try {
      return JSON.writeValueAsString(record);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a run record could not be written as JSON", e);
    }
  }
}
