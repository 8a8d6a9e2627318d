package dev.syllabus.activities;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.syllabus.activities.kubernetes.Permissions;
import dev.syllabus.workflows.job.ArtifactRef;
import dev.syllabus.workflows.job.ArtifactRef.Kind;
import dev.syllabus.workflows.job.Manifest;
import dev.syllabus.workflows.job.Names;
import dev.syllabus.workflows.job.PhaseTask;
import dev.syllabus.workflows.job.RenderedPhase;
import dev.syllabus.workflows.job.Triplet;
import dev.syllabus.workflows.recipe.Phase;
import dev.syllabus.workflows.recipe.Problem;
import dev.syllabus.workflows.recipe.Recipe;
import dev.syllabus.workflows.recipe.RecipeLoader;
import dev.syllabus.workflows.recipe.RecipeValidator;
import dev.syllabus.workflows.recipe.StepRange;
import dev.syllabus.workflows.recipe.WorkloadResources;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The real framework folders, the real recipe and the real deploy/ files, rendered the way a run
 * renders them: recipes/sft-then-grpo.yaml through the recipe loader and validator, each phase
 * through the {@link Renderer}, then read back as typed Kubernetes objects.
 */
class FrameworkManifestsTest {

  private static final Path REPO = Path.of("..");
  private static final Path KUBECONFIGS = REPO.resolve("kubeconfigs");
  private static final Path RECIPE = REPO.resolve("recipes/sft-then-grpo.yaml");
  private static final Path DEPLOY = REPO.resolve("deploy");
  private static final String RUN = "qwen-run-7";
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern DNS_1035 = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");
  private static final List<String> RUN_LABELS =
      List.of(
          Renderer.MANAGED_BY,
          Renderer.RUN_LABEL,
          Renderer.PHASE_LABEL,
          Renderer.PHASE_INDEX_LABEL,
          Renderer.ATTEMPT_LABEL);

  private final Kubeconfigs kubeconfigs = new Kubeconfigs(KUBECONFIGS);
  private final Renderer renderer = new Renderer(kubeconfigs);

  /** One rendered phase: the recipe's phase and its objects, parsed back from the YAML. */
  private record Rendered(Phase phase, RenderedPhase rendered, List<HasMetadata> objects) {

    Job job() {
      return only(Job.class);
    }

    <T extends HasMetadata> List<T> all(Class<T> type) {
      return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    <T extends HasMetadata> T only(Class<T> type) {
      List<T> found = all(type);
      assertEquals(1, found.size(), "one " + type.getSimpleName() + " in " + phase.name());
      return found.get(0);
    }

    /** The object whose name ends with {@code -<original>}, e.g. the Service {@code vllm}. */
    <T extends HasMetadata> T named(Class<T> type, String original) {
      return all(type).stream()
          .filter(o -> o.getMetadata().getName().endsWith("-" + original))
          .findFirst()
          .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + original));
    }

    /** Pod templates by the role label of their workload object. */
    Map<String, PodTemplateSpec> podsByRole() {
      Map<String, PodTemplateSpec> out = new LinkedHashMap<>();
      for (HasMetadata object : objects) {
        PodTemplateSpec pod = Renderer.podTemplate(object);
        if (pod != null) {
          out.put(Kubeconfigs.roleOf(object), pod);
        }
      }
      return out;
    }

    Container trainer() {
      return podsByRole().get("train").getSpec().getContainers().get(0);
    }

    JsonNode config() throws Exception {
      ConfigMap config = named(ConfigMap.class, Renderer.CONFIG_VOLUME);
      assertEquals(1, config.getData().size(), "the config ConfigMap holds one file");
      return YAML.readTree(config.getData().values().iterator().next());
    }
  }

  private static Recipe recipe(List<String> overrides) throws Exception {
    RecipeLoader.Loaded loaded =
        RecipeLoader.parse("recipes/sft-then-grpo.yaml", Files.readString(RECIPE), overrides);
    List<Problem> problems =
        RecipeValidator.validate(
            loaded.recipe(), loaded.sources(), new Kubeconfigs(KUBECONFIGS).catalog());
    assertEquals(List.of(), problems);
    return loaded.recipe();
  }

  /** Every phase rendered as a run renders it, starting from the previous phase's last step. */
  private List<Rendered> render(String runId, int attempt, List<String> overrides)
      throws Exception {
    Recipe recipe = recipe(overrides);
    List<StepRange> ranges = recipe.stepRanges();
    List<Rendered> out = new ArrayList<>();
    for (int i = 0; i < recipe.phases().size(); i++) {
      Phase phase = recipe.phases().get(i);
      Triplet input;
      if (i == 0) {
        input = new Triplet(ArtifactRef.external(Kind.MODEL, recipe.model().base()), null, null);
      } else {
        Phase previous = recipe.phases().get(i - 1);
        String path =
            Names.phaseFolder(runId, i - 1, previous.name())
                + "/checkpoint-"
                + ranges.get(i - 1).length();
        long step = ranges.get(i - 1).end();
        input =
            new Triplet(
                new ArtifactRef(Kind.MODEL, "file:///" + path, path, previous.name(), step, "x"),
                new ArtifactRef(
                    Kind.OPTIMIZER, "file:///" + path, path, previous.name(), step, "x"),
                null);
      }
      PhaseTask task =
          new PhaseTask(
              runId,
              recipe.name(),
              i,
              phase,
              ranges.get(i),
              recipe.schedule().totalSteps(),
              input,
              phase.data(),
              1000,
              0,
              null);
      RenderedPhase rendered = renderer.render(task, attempt);
      List<HasMetadata> objects = new ArrayList<>();
      for (Manifest m : rendered.manifests()) {
        objects.add((HasMetadata) Kubeconfigs.SERIALIZATION.unmarshal(m.yaml()));
      }
      out.add(new Rendered(phase, rendered, objects));
    }
    return out;
  }

  private List<Rendered> render() throws Exception {
    return render(RUN, 1, List.of());
  }

  private Rendered phase(List<Rendered> phases, String name) {
    return phases.stream()
        .filter(r -> r.phase().name().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no phase " + name));
  }

  private static Map<String, EnvVar> env(Container container) {
    Map<String, EnvVar> out = new LinkedHashMap<>();
    for (EnvVar var : container.getEnv() == null ? List.<EnvVar>of() : container.getEnv()) {
      out.put(var.getName(), var);
    }
    return out;
  }

  private static String envValue(Container container, String name) {
    EnvVar var = env(container).get(name);
    assertNotNull(var, container.getName() + " has no " + name);
    return var.getValue();
  }

  private static List<Container> containers(PodTemplateSpec pod) {
    List<Container> out = new ArrayList<>(pod.getSpec().getContainers());
    if (pod.getSpec().getInitContainers() != null) {
      out.addAll(pod.getSpec().getInitContainers());
    }
    return out;
  }

  // --- the recipe --------------------------------------------------------------------------

  @Test
  void theRecipeIsValidAndRunsAxolotlSftThenVerifiersGrpo() throws Exception {
    Recipe recipe = recipe(List.of());
    assertEquals("Qwen/Qwen2.5-7B-Instruct", recipe.model().base());
    assertEquals(List.of("sft", "grpo"), recipe.phases().stream().map(Phase::name).toList());
    assertEquals("axolotl/sft", recipe.phases().get(0).frameworkWorkload());
    assertEquals("verifiers/grpo", recipe.phases().get(1).frameworkWorkload());
    assertEquals(List.of(new StepRange(0, 900), new StepRange(900, 3000)), recipe.stepRanges());
    Phase grpo = recipe.phases().get(1);
    assertEquals(20 * 60_000, grpo.deadlines().readyMillis());
    assertEquals(2 * 3_600_000, grpo.deadlines().capacityMillis());
  }

  // --- resources and image -----------------------------------------------------------------

  @Test
  void eachRoleGetsExactlyTheResourcesTheRecipeGivesIt() throws Exception {
    Rendered grpo = phase(render(), "grpo");
    Map<String, WorkloadResources> wanted = grpo.phase().resources();
    assertEquals(6, wanted.get("train").gpu());
    assertEquals(2, wanted.get("vllm").gpu());
    assertEquals(1, wanted.get("rewards").gpu());
    for (Rendered r : render()) {
      Map<String, PodTemplateSpec> pods = r.podsByRole();
      assertEquals(r.phase().resources().keySet(), pods.keySet(), r.phase().name() + " roles");
      for (Map.Entry<String, WorkloadResources> role : r.phase().resources().entrySet()) {
        Container main = pods.get(role.getKey()).getSpec().getContainers().get(0);
        Map<String, Quantity> requests = main.getResources().getRequests();
        Map<String, Quantity> limits = main.getResources().getLimits();
        WorkloadResources w = role.getValue();
        String where = r.phase().name() + "/" + role.getKey();
        Quantity gpus = new Quantity(Integer.toString(w.gpu()));
        assertEquals(gpus, requests.get(Renderer.GPU), where + " GPU request");
        assertEquals(gpus, limits.get(Renderer.GPU), where + " GPU limit");
        if (w.cpu() != null) {
          assertEquals(new Quantity(w.cpu()), requests.get("cpu"), where + " cpu");
        }
        if (w.memory() != null) {
          assertEquals(new Quantity(w.memory()), requests.get("memory"), where + " memory");
          assertEquals(new Quantity(w.memory()), limits.get("memory"), where + " memory limit");
        }
      }
    }
  }

  @Test
  void theRecipesImageGoesToTheTrainContainerOnly() throws Exception {
    List<Rendered> phases =
        render(RUN, 1, List.of("phases[grpo].image=registry.example/trainer:42"));
    Rendered grpo = phase(phases, "grpo");
    assertEquals("registry.example/trainer:42", grpo.trainer().getImage());
    for (Map.Entry<String, PodTemplateSpec> pod : grpo.podsByRole().entrySet()) {
      if (!pod.getKey().equals("train")) {
        assertNotEquals(
            "registry.example/trainer:42",
            pod.getValue().getSpec().getContainers().get(0).getImage(),
            pod.getKey());
      }
    }
    // A phase without an image keeps the manifest's own.
    assertEquals("axolotlai/axolotl:main-latest", phase(phases, "sft").trainer().getImage());
  }

  // --- the job contract --------------------------------------------------------------------

  @Test
  void theTrainersGetTheJobContractWithPathsUnderTheirMounts() throws Exception {
    List<Rendered> phases = render();
    Container sft = phase(phases, "sft").trainer();
    assertEquals("Qwen/Qwen2.5-7B-Instruct", envValue(sft, "SYLLABUS_INPUT_MODEL"));
    assertEquals("/mnt/syllabus/qwen-run-7/0-sft", envValue(sft, "SYLLABUS_OUTPUT_DIR"));
    assertEquals("0", envValue(sft, "SYLLABUS_STEP_START"));
    assertEquals("900", envValue(sft, "SYLLABUS_STEP_END"));

    Container grpo = phase(phases, "grpo").trainer();
    assertEquals("qwen-run-7", envValue(grpo, "SYLLABUS_RUN_ID"));
    assertEquals("grpo", envValue(grpo, "SYLLABUS_PHASE"));
    assertEquals("1", envValue(grpo, "SYLLABUS_PHASE_INDEX"));
    assertEquals("900", envValue(grpo, "SYLLABUS_STEP_START"));
    assertEquals("3000", envValue(grpo, "SYLLABUS_STEP_END"));
    assertEquals("3000", envValue(grpo, "SYLLABUS_TOTAL_STEPS"));
    assertEquals(
        "/mnt/syllabus/qwen-run-7/0-sft/checkpoint-900", envValue(grpo, "SYLLABUS_INPUT_MODEL"));
    assertEquals("", envValue(grpo, "SYLLABUS_INPUT_OPTIMIZER"), "grpo resets its optimizer");
    assertEquals("/mnt/syllabus/qwen-run-7/1-grpo", envValue(grpo, "SYLLABUS_OUTPUT_DIR"));
    assertEquals("/etc/syllabus/config.yaml", envValue(grpo, "SYLLABUS_CONFIG"));
    for (Rendered r : phases) {
      Container trainer = r.trainer();
      assertTrue(
          envValue(trainer, "SYLLABUS_OUTPUT_DIR")
              .startsWith(mountPath(trainer, "syllabus-artifacts") + "/"));
      assertTrue(
          envValue(trainer, "SYLLABUS_CONFIG")
              .startsWith(mountPath(trainer, "syllabus-config") + "/"));
    }
  }

  @Test
  void theVllmServerServesTheModelTheTrainerStartsFrom() throws Exception {
    Rendered grpo = phase(render(), "grpo");
    Container vllm = grpo.podsByRole().get("vllm").getSpec().getContainers().get(0);
    assertEquals(
        envValue(grpo.trainer(), "SYLLABUS_INPUT_MODEL"), envValue(vllm, "SYLLABUS_INPUT_MODEL"));
    assertEquals(
        mountPath(grpo.trainer(), "syllabus-artifacts"), mountPath(vllm, "syllabus-artifacts"));
    assertTrue(readOnlyMount(vllm, "syllabus-artifacts"), "the server only reads the store");
    assertEquals(
        envValue(grpo.trainer(), "SYLLABUS_INPUT_MODEL"), grpo.config().get("model").asText());
  }

  private static String mountPath(Container container, String volume) {
    for (VolumeMount mount : container.getVolumeMounts()) {
      if (mount.getName().equals(volume)) {
        return mount.getMountPath();
      }
    }
    throw new AssertionError(container.getName() + " does not mount " + volume);
  }

  private static boolean readOnlyMount(Container container, String volume) {
    return container.getVolumeMounts().stream()
        .anyMatch(m -> m.getName().equals(volume) && Boolean.TRUE.equals(m.getReadOnly()));
  }

  // --- services ----------------------------------------------------------------------------

  @Test
  void everyContainerFindsTheServicesThroughTheEnvironment() throws Exception {
    for (Rendered r : render()) {
      List<Service> services = r.all(Service.class);
      for (PodTemplateSpec pod : r.podsByRole().values()) {
        for (Container container : containers(pod)) {
          for (Service service : services) {
            String original =
                service
                    .getMetadata()
                    .getName()
                    .substring(r.job().getMetadata().getName().length() + 1);
            assertEquals(
                service.getMetadata().getName(),
                envValue(container, Renderer.serviceEnvName(original)),
                r.phase().name() + "/" + container.getName());
          }
        }
      }
    }
    Rendered grpo = phase(render(), "grpo");
    assertEquals(
        Set.of("vllm", "rewards"),
        new HashSet<>(
            grpo.all(Service.class).stream()
                .map(
                    s ->
                        s.getMetadata()
                            .getName()
                            .replace(grpo.job().getMetadata().getName() + "-", ""))
                .toList()));
  }

  /**
   * Kubernetes expands $(NAME) only for variables defined earlier in the list (or, in args, at
   * all).
   */
  @Test
  void everyDependentVariableIsDefinedWhereItIsUsed() throws Exception {
    Pattern reference = Pattern.compile("(?<!\\$)\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");
    List<Rendered> all = new ArrayList<>(render());
    all.addAll(renderAxolotlGrpo());
    int references = 0;
    for (Rendered r : all) {
      for (PodTemplateSpec pod : r.podsByRole().values()) {
        for (Container container : containers(pod)) {
          Set<String> defined = new HashSet<>();
          for (EnvVar var : container.getEnv()) {
            if (var.getValue() != null) {
              Matcher m = reference.matcher(var.getValue());
              while (m.find()) {
                references++;
                assertTrue(
                    defined.contains(m.group(1)),
                    container.getName()
                        + ": "
                        + var.getName()
                        + " uses "
                        + m.group(1)
                        + " before it is defined");
              }
            }
            defined.add(var.getName());
          }
          List<String> words = new ArrayList<>();
          if (container.getCommand() != null) {
            words.addAll(container.getCommand());
          }
          if (container.getArgs() != null) {
            words.addAll(container.getArgs());
          }
          for (String word : words) {
            Matcher m = reference.matcher(word);
            while (m.find()) {
              references++;
              assertTrue(
                  defined.contains(m.group(1)), container.getName() + " args use " + m.group(1));
            }
          }
        }
      }
    }
    assertTrue(references > 0, "the manifests use dependent variables ($(SYLLABUS_SERVICE_...))");
  }

  @Test
  void theTrainersConfigHoldsTheRenderedServiceNames() throws Exception {
    Rendered grpo = phase(render(), "grpo");
    JsonNode config = grpo.config();
    Service vllm = grpo.named(Service.class, "vllm");
    Service rewards = grpo.named(Service.class, "rewards");
    assertEquals(vllm.getMetadata().getName(), config.get("vllm_server_host").asText());
    assertEquals(
        "http://" + rewards.getMetadata().getName() + ":8000/score",
        config.at("/environment/args/rewards_url").asText());
    assertEquals(port(vllm, "http"), config.get("vllm_server_port").asInt());
    assertEquals(8000, port(rewards, "http"));
    // The recipe's own keys, and what framework.yaml maps.
    assertEquals("triton-kernels", config.at("/environment/id").asText());
    assertEquals(
        "example/triton-kernel-tasks", config.at("/environment/args/datasets/0/path").asText());
    assertEquals("adamw_torch", config.get("optim").asText());
    assertEquals(1.0e-6, config.get("learning_rate").asDouble());
    assertEquals("/mnt/syllabus/qwen-run-7/1-grpo", config.get("output_dir").asText());
    assertEquals(2100, config.get("max_steps").asInt());
    assertTrue(
        config
            .at("/environment/args/rewards_url")
            .asText()
            .contains(rewards.getMetadata().getName()));
  }

  @Test
  void theAxolotlConfigHasTheRecipesSettingsUnderAxolotlsKeys() throws Exception {
    JsonNode config = phase(render(), "sft").config();
    assertEquals("Qwen/Qwen2.5-7B-Instruct", config.get("base_model").asText());
    assertEquals("/mnt/syllabus/qwen-run-7/0-sft", config.get("output_dir").asText());
    assertEquals(900, config.get("max_steps").asInt());
    assertEquals("adamw_torch_fused", config.get("optimizer").asText());
    assertEquals(2.0e-5, config.get("learning_rate").asDouble());
    assertEquals("HuggingFaceH4/ultrachat_200k", config.at("/datasets/0/path").asText());
    assertEquals("syllabus_axolotl.SyllabusPlugin", config.at("/plugins/0").asText());
    assertEquals(0, 900 % config.get("save_steps").asInt(), "the last step is a save step");
  }

  private static int port(Service service, String name) {
    for (ServicePort port : service.getSpec().getPorts()) {
      if (name.equals(port.getName())) {
        return port.getPort();
      }
    }
    throw new AssertionError(service.getMetadata().getName() + " has no port " + name);
  }

  // --- labels, names, selectors ------------------------------------------------------------

  @Test
  void everyObjectAndPodTemplateCarriesTheRunsLabels() throws Exception {
    for (Rendered r : render(RUN, 3, List.of())) {
      Map<String, String> expected = new LinkedHashMap<>();
      expected.put(Renderer.MANAGED_BY, "syllabus");
      expected.put(Renderer.RUN_LABEL, RUN);
      expected.put(Renderer.PHASE_LABEL, r.phase().name());
      expected.put(Renderer.PHASE_INDEX_LABEL, r.phase().name().equals("sft") ? "0" : "1");
      expected.put(Renderer.ATTEMPT_LABEL, "3");
      for (HasMetadata object : r.objects()) {
        String what = object.getKind() + " " + object.getMetadata().getName();
        expected.forEach(
            (k, v) -> assertEquals(v, object.getMetadata().getLabels().get(k), what + " " + k));
        PodTemplateSpec pod = Renderer.podTemplate(object);
        if (pod != null) {
          expected.forEach(
              (k, v) -> assertEquals(v, pod.getMetadata().getLabels().get(k), what + " pod " + k));
          String role = Kubeconfigs.roleOf(object);
          assertNotNull(role, what + " has a role");
          assertEquals(
              role, pod.getMetadata().getLabels().get(Kubeconfigs.ROLE_LABEL), what + " pod role");
        }
      }
    }
  }

  @Test
  void namesAreValidKubernetesNamesEvenForTheLongestRunIds() throws Exception {
    String longest = "a-run-id-that-is-exactly-forty-chars-xyz";
    assertEquals(Names.MAX_RUN_ID, longest.length());
    for (String runId : List.of(RUN, longest)) {
      Set<String> names = new HashSet<>();
      for (Rendered r : render(runId, 12, List.of())) {
        for (HasMetadata object : r.objects()) {
          String name = object.getMetadata().getName();
          assertTrue(name.length() <= 63, name);
          assertTrue(DNS_LABEL.matcher(name).matches(), name);
          if (object instanceof Service) {
            assertTrue(
                DNS_1035.matcher(name).matches(), "a Service name starts with a letter: " + name);
          }
          assertTrue(names.add(object.getKind() + "/" + name), "two objects named " + name);
        }
      }
    }
  }

  @Test
  void selectorsPickOnlyThisAttemptsPodsAndStillMatchTheirTemplates() throws Exception {
    Rendered grpo = phase(render(RUN, 2, List.of()), "grpo");
    List<Deployment> deployments = grpo.all(Deployment.class);
    assertEquals(2, deployments.size());
    for (Deployment d : deployments) {
      Map<String, String> selector = d.getSpec().getSelector().getMatchLabels();
      assertEquals(RUN, selector.get(Renderer.RUN_LABEL));
      assertEquals("1", selector.get(Renderer.PHASE_INDEX_LABEL));
      assertEquals("2", selector.get(Renderer.ATTEMPT_LABEL));
      assertTrue(matches(selector, d.getSpec().getTemplate()), d.getMetadata().getName());
    }
    for (Service service : grpo.all(Service.class)) {
      Map<String, String> selector = service.getSpec().getSelector();
      assertEquals("2", selector.get(Renderer.ATTEMPT_LABEL));
      List<PodTemplateSpec> selected =
          grpo.podsByRole().values().stream().filter(p -> matches(selector, p)).toList();
      assertEquals(1, selected.size(), service.getMetadata().getName() + " selects one workload");
      // Every port the Service forwards to is a named port of the pods it selects.
      Set<String> podPorts = new HashSet<>();
      for (Container c : containers(selected.get(0))) {
        for (ContainerPort p : c.getPorts()) {
          podPorts.add(p.getName());
        }
      }
      for (ServicePort port : service.getSpec().getPorts()) {
        assertTrue(podPorts.contains(port.getTargetPort().getStrVal()), port.getName());
      }
    }
    Service vllm = grpo.named(Service.class, "vllm");
    assertEquals(8000, port(vllm, "http"));
    assertEquals(51216, port(vllm, "weight-sync"), "the trainer's weight-sync group");
  }

  private static boolean matches(Map<String, String> selector, PodTemplateSpec pod) {
    Map<String, String> labels = pod.getMetadata().getLabels();
    return selector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
  }

  // --- secrets -----------------------------------------------------------------------------

  @Test
  void secretsAreOnlyReferencedByName() throws Exception {
    List<Rendered> all = new ArrayList<>(render());
    all.addAll(renderAxolotlGrpo());
    int references = 0;
    for (Rendered r : all) {
      for (Manifest m : r.rendered().manifests()) {
        assertNotEquals("Secret", m.kind());
      }
      for (PodTemplateSpec pod : r.podsByRole().values()) {
        for (Container container : containers(pod)) {
          for (EnvVar var : container.getEnv()) {
            boolean secretish = var.getName().matches(".*(TOKEN|KEY|PASSWORD|SECRET).*");
            if (var.getValueFrom() != null && var.getValueFrom().getSecretKeyRef() != null) {
              references++;
              assertNull(var.getValue(), var.getName());
            } else if (secretish) {
              fail(container.getName() + ": " + var.getName() + " is not a Secret reference");
            }
          }
        }
      }
    }
    assertTrue(references > 0);
    Container trainer = phase(render(), "grpo").trainer();
    assertEquals(
        "hf-token", env(trainer).get("HF_TOKEN").getValueFrom().getSecretKeyRef().getName());
    assertEquals(
        Boolean.TRUE,
        env(trainer).get("WANDB_API_KEY").getValueFrom().getSecretKeyRef().getOptional());
  }

  // --- how the pods run --------------------------------------------------------------------

  @Test
  void everyWorkloadFollowsTheFrameworkConventions() throws Exception {
    List<Rendered> all = new ArrayList<>(render());
    all.addAll(renderAxolotlGrpo());
    for (Rendered r : all) {
      Set<String> configMaps = new TreeSet<>();
      r.all(ConfigMap.class).forEach(c -> configMaps.add(c.getMetadata().getName()));
      for (Map.Entry<String, PodTemplateSpec> entry : r.podsByRole().entrySet()) {
        String where = r.phase().frameworkWorkload() + "/" + entry.getKey();
        var spec = entry.getValue().getSpec();
        Map<String, Volume> volumes = new LinkedHashMap<>();
        spec.getVolumes().forEach(v -> volumes.put(v.getName(), v));
        Volume store = volumes.get(Renderer.ARTIFACTS_VOLUME);
        if (store != null) {
          assertEquals(
              "syllabus-artifacts", store.getPersistentVolumeClaim().getClaimName(), where);
        }
        for (Volume v : volumes.values()) {
          if (v.getConfigMap() != null) {
            assertTrue(
                configMaps.contains(v.getConfigMap().getName()),
                where + " mounts " + v.getConfigMap().getName());
          }
        }
        Volume shm = volumes.get("dshm");
        assertNotNull(shm, where + " has /dev/shm");
        assertEquals("Memory", shm.getEmptyDir().getMedium(), where);
        assertNotNull(shm.getEmptyDir().getSizeLimit(), where + " /dev/shm sizeLimit");
        assertEquals("/dev/shm", mountPath(spec.getContainers().get(0), "dshm"), where);
        assertEquals(
            Boolean.FALSE,
            spec.getContainers().get(0).getSecurityContext().getAllowPrivilegeEscalation(),
            where);
      }
      Job job = r.job();
      assertEquals(0, job.getSpec().getBackoffLimit());
      var pod = job.getSpec().getTemplate().getSpec();
      assertEquals("Never", pod.getRestartPolicy());
      assertTrue(pod.getTerminationGracePeriodSeconds() >= 300, "time to save a checkpoint");
      assertNotNull(mountPath(r.trainer(), Renderer.CONFIG_VOLUME));
      for (Deployment d : r.all(Deployment.class)) {
        Container server = d.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertNotNull(server.getReadinessProbe(), d.getMetadata().getName() + " readiness");
      }
    }
  }

  @Test
  void configMapsShipTheRepositoryFilesTheyName() throws Exception {
    Rendered grpo = phase(render(), "grpo");
    ConfigMap trainer = grpo.named(ConfigMap.class, "trainer");
    assertEquals(
        Files.readString(KUBECONFIGS.resolve("verifiers/train_grpo.py")),
        trainer.getData().get("train_grpo.py"));
    String command = String.join(" ", grpo.trainer().getArgs());
    assertTrue(command.contains(mountPath(grpo.trainer(), "trainer") + "/train_grpo.py"), command);

    Rendered sft = phase(render(), "sft");
    assertEquals(
        Files.readString(KUBECONFIGS.resolve("axolotl/syllabus_axolotl.py")),
        sft.named(ConfigMap.class, "hooks").getData().get("syllabus_axolotl.py"));
    assertEquals("/opt/syllabus", envValue(sft.trainer(), "PYTHONPATH"));
    assertEquals("/opt/syllabus", mountPath(sft.trainer(), "hooks"));
  }

  /** tiny runs the same on a laptop (the local backend maps the volume) and on a cluster. */
  @Test
  void theTinyTrainerShipsItsCodeToTheCluster() throws Exception {
    Phase easy = Phase.builder("easy").until(1.0).framework("tiny", "train").build();
    PhaseTask task =
        new PhaseTask(
            RUN, "demo", 0, easy, new StepRange(0, 900), 900, Triplet.EMPTY, null, 1000, 0, null);
    RenderedPhase rendered = renderer.render(task, 1);
    ConfigMap code = null;
    Job job = null;
    for (Manifest m : rendered.manifests()) {
      Object o = Kubeconfigs.SERIALIZATION.unmarshal(m.yaml());
      if (o instanceof ConfigMap c && c.getMetadata().getName().endsWith("-tiny-trainer")) {
        code = c;
      } else if (o instanceof Job j) {
        job = j;
      }
    }
    assertNotNull(code, "the tiny-trainer ConfigMap is rendered");
    assertNotNull(job);
    assertEquals(
        Files.readString(REPO.resolve("examples/tiny/tiny_trainer.py")),
        code.getData().get("tiny_trainer.py"));
    Volume trainer =
        job.getSpec().getTemplate().getSpec().getVolumes().stream()
            .filter(v -> v.getName().equals("trainer"))
            .findFirst()
            .orElseThrow();
    assertEquals(code.getMetadata().getName(), trainer.getConfigMap().getName());
    assertEquals(
        "trainer=examples/tiny",
        job.getMetadata().getAnnotations().get("syllabus.dev/local-volumes"));
    assertEquals(
        "/opt/tiny/tiny_trainer.py",
        job.getSpec().getTemplate().getSpec().getContainers().get(0).getCommand().get(2));
  }

  @Test
  void renderedYamlReadsBackAsTypedObjectsOfItsKind() throws Exception {
    List<Rendered> all = new ArrayList<>(render());
    all.addAll(renderAxolotlGrpo());
    Map<String, Class<?>> kinds =
        Map.of(
            "Job",
            Job.class,
            "Deployment",
            Deployment.class,
            "Service",
            Service.class,
            "ConfigMap",
            ConfigMap.class);
    for (Rendered r : all) {
      for (Manifest m : r.rendered().manifests()) {
        Object parsed = Kubeconfigs.SERIALIZATION.unmarshal(m.yaml());
        assertInstanceOf(kinds.get(m.kind()), parsed, m.kind() + " " + m.name());
        assertEquals(m.name(), ((HasMetadata) parsed).getMetadata().getName());
      }
      // The objects of a phase as one stream, as `syllabus render` prints it.
      Object stream = Kubeconfigs.SERIALIZATION.unmarshal(r.rendered().toYaml());
      assertEquals(r.rendered().manifests().size(), ((List<?>) stream).size());
    }
  }

  /** The axolotl grpo workload, which the recipe does not use: an axolotl phase in its place. */
  private List<Rendered> renderAxolotlGrpo() throws Exception {
    return render(
            RUN,
            1,
            List.of(
                "phases[grpo].framework=axolotl",
                "phases[grpo].config={rl: grpo, plugins: [syllabus_axolotl.SyllabusPlugin]}",
                "phases[grpo].resources.train.gpu=4"))
        .stream()
        .filter(r -> r.phase().name().equals("grpo"))
        .toList();
  }

  @Test
  void theAxolotlGrpoTrainerReachesItsServers() throws Exception {
    Rendered grpo = renderAxolotlGrpo().get(0);
    assertEquals("axolotl/grpo", grpo.phase().frameworkWorkload());
    Service rewards = grpo.named(Service.class, "rewards");
    assertEquals(
        "http://$(SYLLABUS_SERVICE_REWARDS):8000/score",
        envValue(grpo.trainer(), "SYLLABUS_REWARDS_URL"));
    assertEquals(
        rewards.getMetadata().getName(), envValue(grpo.trainer(), "SYLLABUS_SERVICE_REWARDS"));
    Container vllm = grpo.podsByRole().get("vllm").getSpec().getContainers().get(0);
    String vllmService = grpo.named(Service.class, "vllm").getMetadata().getName();
    assertEquals(vllmService, envValue(vllm, "SYLLABUS_SERVICE_VLLM"));
    assertEquals(vllmService, grpo.config().at("/trl/vllm_server_host").asText());
    // sft has no vLLM Service: the framework's service key is left out of its config.
    assertTrue(phase(render(), "sft").config().at("/trl/vllm_server_host").isMissingNode());
    assertTrue(
        String.join(" ", vllm.getArgs()).contains("axolotl vllm-serve \"$SYLLABUS_CONFIG\""));
    assertEquals(
        mountPath(grpo.trainer(), Renderer.CONFIG_VOLUME), mountPath(vllm, Renderer.CONFIG_VOLUME));
  }

  // --- deploy/ -----------------------------------------------------------------------------

  private static List<Path> deployManifests() throws Exception {
    try (Stream<Path> files = Files.list(DEPLOY)) {
      return files
          .filter(p -> p.toString().endsWith(".yaml"))
          .filter(p -> !p.getFileName().toString().equals("kustomization.yaml"))
          .sorted()
          .toList();
    }
  }

  private static <T> T deployObject(String file, Class<T> type) throws Exception {
    Object parsed = Kubeconfigs.SERIALIZATION.unmarshal(Files.readString(DEPLOY.resolve(file)));
    return assertInstanceOf(type, parsed, file);
  }

  @Test
  void everyDeployManifestReadsAsATypedObjectAndTheKustomizationListsIt() throws Exception {
    Map<String, Class<?>> expected = new LinkedHashMap<>();
    expected.put("namespace.yaml", Namespace.class);
    expected.put("pvc.yaml", PersistentVolumeClaim.class);
    expected.put("role-kueue.yaml", Role.class);
    expected.put("role.yaml", Role.class);
    expected.put("rolebinding-kueue.yaml", RoleBinding.class);
    expected.put("rolebinding.yaml", RoleBinding.class);
    expected.put("serviceaccount.yaml", ServiceAccount.class);
    expected.put("worker-deployment.yaml", Deployment.class);
    assertEquals(
        new TreeSet<>(expected.keySet()),
        new TreeSet<>(deployManifests().stream().map(p -> p.getFileName().toString()).toList()));
    for (Map.Entry<String, Class<?>> e : expected.entrySet()) {
      deployObject(e.getKey(), e.getValue());
    }
    JsonNode kustomization = YAML.readTree(DEPLOY.resolve("kustomization.yaml").toFile());
    Set<String> listed = new TreeSet<>();
    kustomization.get("resources").forEach(n -> listed.add(n.asText()));
    Set<String> required = new TreeSet<>(expected.keySet());
    required.removeAll(Set.of("role-kueue.yaml", "rolebinding-kueue.yaml"));
    assertEquals(required, listed, "the optional Kueue Role is left out");
  }

  /**
   * deploy/role.yaml grants what {@link Permissions} lists as needed, role-kueue.yaml the optional
   * rest, and nothing else: no wildcards, no Secrets, no rules limited to named objects.
   */
  @Test
  void theWorkersRolesGrantExactlyThePermissionsTheBackendLists() throws Exception {
    Set<String> granted = new TreeSet<>();
    for (String file : List.of("role.yaml", "role-kueue.yaml")) {
      for (PolicyRule rule : deployObject(file, Role.class).getRules()) {
        List<String> words = new ArrayList<>(rule.getApiGroups());
        words.addAll(rule.getResources());
        words.addAll(rule.getVerbs());
        for (String word : words) {
          assertFalse(word.contains("*"), file + ": a wildcard");
        }
        assertFalse(rule.getResources().stream().anyMatch(r -> r.startsWith("secrets")), file);
        assertTrue(
            rule.getResourceNames() == null || rule.getResourceNames().isEmpty(),
            file + ": rules for every object of a resource, not named ones");
        for (String group : rule.getApiGroups()) {
          for (String resource : rule.getResources()) {
            for (String verb : rule.getVerbs()) {
              granted.add(file + " " + group + "/" + resource + " " + verb);
            }
          }
        }
      }
    }
    Set<String> expected = new TreeSet<>();
    for (Permissions.Permission p : Permissions.ALL) {
      String file = p.optional() ? "role-kueue.yaml" : "role.yaml";
      for (String verb : p.verbs()) {
        expected.add(file + " " + p.apiGroup() + "/" + p.resource() + " " + verb);
      }
    }
    assertEquals(expected, granted);
    assertTrue(granted.contains("role.yaml batch/jobs patch"), "pause patches the Job");
  }

  @Test
  void theWorkerServesMetricsOnThePortItsPodNamesAndAnnotatesForPrometheus() throws Exception {
    Deployment worker = deployObject("worker-deployment.yaml", Deployment.class);
    Container container = worker.getSpec().getTemplate().getSpec().getContainers().get(0);
    List<String> args = container.getArgs();
    int port = Integer.parseInt(args.get(args.indexOf("--metrics-port") + 1));
    var metrics =
        container.getPorts().stream()
            .filter(p -> "metrics".equals(p.getName()))
            .findFirst()
            .orElseThrow();
    assertEquals(port, metrics.getContainerPort());
    Map<String, String> annotations = worker.getSpec().getTemplate().getMetadata().getAnnotations();
    assertEquals("true", annotations.get("prometheus.io/scrape"));
    assertEquals(Integer.toString(port), annotations.get("prometheus.io/port"));
    assertEquals("/metrics", annotations.get("prometheus.io/path"));
  }

  @Test
  void theWorkerRunsAsItsServiceAccountWithTheArtifactClaimWhereItsArgumentsSay() throws Exception {
    Deployment worker = deployObject("worker-deployment.yaml", Deployment.class);
    var pod = worker.getSpec().getTemplate().getSpec();
    Container container = pod.getContainers().get(0);
    List<String> args = container.getArgs();
    assertEquals("worker", args.get(0));
    assertEquals("kubernetes", args.get(args.indexOf("--backend") + 1));
    assertTrue(args.contains("--k8s-namespace"));
    assertTrue(args.get(args.indexOf("--address") + 1).endsWith(":7233"));
    String artifacts = args.get(args.indexOf("--artifacts") + 1);
    Volume claim =
        pod.getVolumes().stream()
            .filter(v -> v.getPersistentVolumeClaim() != null)
            .findFirst()
            .orElseThrow();
    PersistentVolumeClaim pvc = deployObject("pvc.yaml", PersistentVolumeClaim.class);
    assertEquals(pvc.getMetadata().getName(), claim.getPersistentVolumeClaim().getClaimName());
    assertEquals("syllabus-artifacts", pvc.getMetadata().getName());
    assertEquals(List.of("ReadWriteMany"), pvc.getSpec().getAccessModes());
    assertEquals(artifacts, mountPath(container, claim.getName()));

    RoleBinding binding = deployObject("rolebinding.yaml", RoleBinding.class);
    assertEquals(pod.getServiceAccountName(), binding.getSubjects().get(0).getName());
    assertEquals(
        deployObject("role.yaml", Role.class).getMetadata().getName(),
        binding.getRoleRef().getName());
    assertEquals(
        deployObject("serviceaccount.yaml", ServiceAccount.class).getMetadata().getName(),
        pod.getServiceAccountName());
    assertEquals(Boolean.TRUE, pod.getSecurityContext().getRunAsNonRoot());
    assertEquals(Boolean.TRUE, container.getSecurityContext().getReadOnlyRootFilesystem());
    assertNotNull(container.getResources().getRequests().get("memory"));
  }
}
