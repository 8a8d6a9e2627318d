package dev.syllabus.workflows.recipe;

/**
 * The model the first phase starts from.
 *
 * @param base what the framework loads: a hub id such as {@code Qwen/Qwen2.5-7B-Instruct} or a
 *     path; passed to the first phase as {@code SYLLABUS_INPUT_MODEL}
 */
public record ModelSpec(String base) {}
