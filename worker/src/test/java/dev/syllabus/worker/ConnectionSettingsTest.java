package dev.syllabus.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.syllabus.worker.ConnectionSettings.BadSetting;
import dev.syllabus.worker.ConnectionSettings.Flags;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Connection settings resolved as the {@code temporal} CLI resolves them: a flag over a {@code
 * TEMPORAL_*} variable over the profile file, today's local defaults when nothing is set, and the
 * API key in none of what is printed.
 */
class ConnectionSettingsTest {
  private static final String KEY = "tk-secret-8d3f";

  @TempDir Path folder;
  private Path file;
  private Map<String, String> env;

  @BeforeEach
  void aProfileFile() throws Exception {
    file = folder.resolve("temporal.toml");
    Files.writeString(
        file,
        """
        [profile.default]
        address = "from-profile:7233"
        namespace = "profile-ns"

        [profile.cloud]
        address = "ns.acct.tmprl.cloud:7233"
        namespace = "ns.acct"
        api_key = "%s"
        """
            .formatted(KEY));
    env = new HashMap<>();
    env.put("TEMPORAL_CONFIG_FILE", file.toString());
  }

  private static Flags address(String address) {
    return new Flags(
        address, null, null, null, null, null, null, null, null, null, null, false, false);
  }

  private static Flags tls(Boolean tls) {
    return new Flags(null, null, null, tls, null, null, null, null, null, null, null, false, false);
  }

  private static Flags profile(String profile) {
    return new Flags(
        null, null, null, null, null, null, null, null, null, profile, null, false, false);
  }

  @Test
  void nothingConfiguredIsTheLocalDevServerInPlainGrpc() throws Exception {
    Files.writeString(file, "");
    ConnectionSettings settings = ConnectionSettings.load(Flags.none(), env);

    assertEquals("127.0.0.1:7233", settings.address());
    assertEquals("default", settings.namespace());
    assertFalse(settings.tls());
    assertEquals("127.0.0.1:7233", settings.serviceStubsOptions().getTarget());
  }

  @Test
  void theProfileFileIsReadWhenNothingElseIsSet() {
    ConnectionSettings settings = ConnectionSettings.load(Flags.none(), env);

    assertEquals("from-profile:7233", settings.address());
    assertEquals("profile-ns", settings.namespace());
  }

  @Test
  void anEnvironmentVariableWinsOverTheProfile() {
    env.put("TEMPORAL_ADDRESS", "from-env:7233");

    assertEquals("from-env:7233", ConnectionSettings.load(Flags.none(), env).address());
    assertEquals("profile-ns", ConnectionSettings.load(Flags.none(), env).namespace());
  }

  @Test
  void aFlagWinsOverTheEnvironment() {
    env.put("TEMPORAL_ADDRESS", "from-env:7233");

    assertEquals(
        "from-flag:7233", ConnectionSettings.load(address("from-flag:7233"), env).address());
  }

  @Test
  void temporalProfileChoosesTheProfile() {
    env.put("TEMPORAL_PROFILE", "cloud");
    ConnectionSettings settings = ConnectionSettings.load(Flags.none(), env);

    assertEquals("ns.acct.tmprl.cloud:7233", settings.address());
    assertEquals("ns.acct", settings.clientOptions().getNamespace());
    assertTrue(settings.tls(), "an API key turns TLS on");
  }

  @Test
  void tlsFalseTurnsTlsOffEvenWithAnApiKey() {
    env.put("TEMPORAL_PROFILE", "cloud");
    ConnectionSettings settings = ConnectionSettings.load(tls(false), env);

    assertFalse(settings.tls());
    assertFalse(settings.serviceStubsOptions().getEnableHttps());
  }

  @Test
  void tlsAloneTrustsThisMachinesCas() {
    ConnectionSettings settings = ConnectionSettings.load(tls(true), env);

    assertTrue(settings.tls());
    assertTrue(settings.serviceStubsOptions().getSslContext() != null);
  }

  @Test
  void theApiKeyShowsInNothingThatIsPrinted() {
    env.put("TEMPORAL_PROFILE", "cloud");
    ConnectionSettings settings = ConnectionSettings.load(Flags.none(), env);
    Flags flags =
        new Flags(null, null, KEY, null, null, null, null, null, null, null, null, false, false);

    assertEquals("ns.acct.tmprl.cloud:7233 (namespace ns.acct, TLS, API key)", settings.describe());
    assertFalse(settings.toString().contains(KEY), settings.toString());
    assertFalse(flags.toString().contains(KEY), flags.toString());
  }

  @Test
  void anUnknownProfileIsNamedWithTheFile() {
    BadSetting bad =
        assertThrows(BadSetting.class, () -> ConnectionSettings.load(profile("staging"), env));
    assertEquals("--profile staging: no [profile.staging] in " + file, bad.getMessage());
  }

  @Test
  void aMissingProfileFileIsNamedWithTheVariable() {
    Path missing = folder.resolve("nope.toml");
    env.put("TEMPORAL_CONFIG_FILE", missing.toString());

    BadSetting bad =
        assertThrows(BadSetting.class, () -> ConnectionSettings.load(Flags.none(), env));
    assertEquals("TEMPORAL_CONFIG_FILE=" + missing + ": no such file", bad.getMessage());
  }

  @Test
  void aProfileFileThatIsNotTomlIsNamed() throws Exception {
    Files.writeString(file, "[profile.default\naddress = ");

    BadSetting bad =
        assertThrows(BadSetting.class, () -> ConnectionSettings.load(Flags.none(), env));
    assertTrue(bad.getMessage().startsWith("profile file " + file + ": "), bad.getMessage());
  }

  @Test
  void aCertificateFileInTheProfileIsNamedWithItsKeyAndProfile() throws Exception {
    Path missing = folder.resolve("client.pem");
    Files.writeString(
        file,
        """
        [profile.default.tls]
        client_cert_path = "%s"
        client_key_path = "%s"
        """
            .formatted(missing, folder.resolve("client.key")));

    BadSetting bad =
        assertThrows(BadSetting.class, () -> ConnectionSettings.load(Flags.none(), env));
    assertEquals(
        missing + " (tls.client_cert_path of profile default in " + file + "): no such file",
        bad.getMessage());
  }

  @Test
  void aCertificateFromTheEnvironmentIsNamedWithItsVariable() {
    Path missing = folder.resolve("client.pem");
    env.put("TEMPORAL_TLS_CLIENT_CERT_PATH", missing.toString());
    env.put("TEMPORAL_TLS_CLIENT_KEY_PATH", folder.resolve("client.key").toString());

    BadSetting bad =
        assertThrows(BadSetting.class, () -> ConnectionSettings.load(Flags.none(), env));
    assertEquals("TEMPORAL_TLS_CLIENT_CERT_PATH=" + missing + ": no such file", bad.getMessage());
  }
}
