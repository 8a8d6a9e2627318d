package dev.syllabus.activities;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.syllabus.workflows.recipe.FrameworkCatalog;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.kubernetes.client.utils.YamlDumpSettingsBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The {@code kubeconfigs/} folder: one folder per framework, holding {@code framework.yaml} and one
 * folder per workload with the framework's own Kubernetes manifests.
 */
public final class Kubeconfigs {

  /** The label a manifest uses to say which workload role it runs ({@code train}, {@code vllm}). */
  public static final String ROLE_LABEL = "syllabus.dev/role";

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /** Reads and writes Kubernetes objects; one instance is enough for the whole process. */
  public static final KubernetesSerialization SERIALIZATION =
      new KubernetesSerialization(
          new ObjectMapper(), true, new YamlDumpSettingsBuilder().setMinimizeQuotes(true).build());

  /** An object as YAML for people and for {@code kubectl apply}: no document marker, few quotes. */
  public static String toYaml(Object object) {
    String yaml = SERIALIZATION.asYaml(object);
    return yaml.startsWith("---\n") ? yaml.substring(4) : yaml;
  }

  private final Path root;

  public Kubeconfigs(Path root) {
    this.root = root;
  }

  public Path root() {
    return root;
  }

  /** Every framework and workload, with the roles its manifests declare: for recipe checks. */
  public FrameworkCatalog catalog() {
    Map<String, FrameworkCatalog.Framework> frameworks = new TreeMap<>();
    for (Path frameworkDir : folders(root)) {
      String name = frameworkDir.getFileName().toString();
      Map<String, Set<String>> workloads = new TreeMap<>();
      for (Path workloadDir : folders(frameworkDir)) {
        if (files(workloadDir).isEmpty()) {
          continue; // not a workload: e.g. __pycache__ or a folder of scripts
        }
        Set<String> roles = new LinkedHashSet<>();
        for (HasMetadata object : manifests(name, workloadDir.getFileName().toString())) {
          String role = roleOf(object);
          if (role != null) {
            roles.add(role);
          }
        }
        workloads.put(workloadDir.getFileName().toString(), roles);
      }
      frameworks.put(
          name, new FrameworkCatalog.Framework(name, workloads, settings(name).trainable()));
    }
    String shown = root.getFileName() == null ? root.toString() : root.getFileName() + "/";
    return new FrameworkCatalog(shown, frameworks);
  }

  /** The framework's {@code framework.yaml}, or defaults when it has none. */
  public FrameworkSettings settings(String framework) {
    Path file = root.resolve(framework).resolve("framework.yaml");
    if (!Files.isRegularFile(file)) {
      return FrameworkSettings.DEFAULTS;
    }
    try {
      JsonNode node = YAML.readTree(file.toFile());
      JsonNode config = node.path("config");
      List<String> trainable = new ArrayList<>();
      node.path("trainable").forEach(n -> trainable.add(n.asText()));
      return new FrameworkSettings(
          config.path("file").asText(FrameworkSettings.DEFAULTS.configFile()),
          config.path("format").asText(FrameworkSettings.DEFAULTS.configFormat()),
          textMap(node.path("keys")),
          trainable,
          textMap(node.path("service_keys")),
          node.path("rendezvous").path("port").asInt(FrameworkSettings.DEFAULT_RENDEZVOUS_PORT));
    } catch (IOException e) {
      throw new Broken(shown(file), "cannot read framework.yaml: " + firstLine(e));
    }
  }

  private static Map<String, String> textMap(JsonNode node) {
    Map<String, String> out = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> e = fields.next();
      out.put(e.getKey(), e.getValue().asText());
    }
    return out;
  }

  /**
   * A file of the repository holding {@code kubeconfigs/}, for ConfigMaps that ship files ({@value
   * Renderer#FILES_ANNOTATION}).
   */
  public Path repoFile(String relative) {
    Path base = root.toAbsolutePath().normalize().getParent();
    Path file = base.resolve(relative).normalize();
    if (!file.startsWith(base)) {
      throw new IllegalArgumentException(relative + " is outside the repository");
    }
    return file;
  }

  /** The original names of the Services of every workload of a framework. */
  public Set<String> serviceNames(String framework) {
    Set<String> names = new TreeSet<>();
    for (Path workload : folders(root.resolve(framework))) {
      for (HasMetadata object : manifests(framework, workload.getFileName().toString())) {
        if ("Service".equals(object.getKind())) {
          names.add(object.getMetadata().getName());
        }
      }
    }
    return names;
  }

  /** The workload's manifests as typed objects, in file-name order. */
  public List<HasMetadata> manifests(String framework, String workload) {
    Path dir = root.resolve(framework).resolve(workload);
    List<HasMetadata> objects = new ArrayList<>();
    for (Path file : files(dir)) {
      try {
        Object parsed = SERIALIZATION.unmarshal(Files.readString(file));
        if (parsed instanceof List<?> list) {
          list.forEach(o -> objects.add((HasMetadata) o));
        } else if (parsed instanceof HasMetadata object) {
          objects.add(object);
        }
      } catch (IOException e) {
        throw new Broken(shown(file), "cannot read: " + firstLine(e));
      } catch (RuntimeException e) {
        throw new Broken(shown(file), "not a Kubernetes manifest: " + firstLine(e));
      }
    }
    return objects;
  }

  /** The workload's manifest files, as text, for tests and for showing what was changed. */
  public List<Path> manifestFiles(String framework, String workload) {
    return files(root.resolve(framework).resolve(workload));
  }

  /** A file under kubeconfigs/ that cannot be used; {@link #file} names it as a person sees it. */
  public static final class Broken extends IllegalArgumentException {
    private final String file;

    Broken(String file, String message) {
      super(message);
      this.file = file;
    }

    public String file() {
      return file;
    }

    @Override
    public String toString() {
      return file + ": " + getMessage();
    }
  }

  /** {@code kubeconfigs/tiny/train/job.yaml}: the path from the folder holding kubeconfigs/. */
  private String shown(Path file) {
    Path base = root.toAbsolutePath().getParent();
    return base == null ? file.toString() : base.relativize(file.toAbsolutePath()).toString();
  }

  /** The innermost cause's message, on one line. */
  private static String firstLine(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    return message.replaceAll("\\s+", " ").trim();
  }

  public static String roleOf(HasMetadata object) {
    Map<String, String> labels = object.getMetadata().getLabels();
    return labels == null ? null : labels.get(ROLE_LABEL);
  }

  private static List<Path> folders(Path dir) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(Files::isDirectory)
          .filter(p -> !p.getFileName().toString().startsWith("."))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<Path> files(Path dir) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
