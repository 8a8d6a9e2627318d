package dev.syllabus.starter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.syllabus.workflows.SearchKeys;
import io.temporal.api.enums.v1.IndexedValueType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Connections as the {@code temporal} CLI makes them, through a TLS-terminating proxy in front of a
 * frontend that answers {@code doctor}: mTLS, an API key, and what a person sees when a
 * certificate, a key or the API key is wrong: one line naming it, exit 2.
 */
@Timeout(120)
class TemporalConnectionTest {
  private static final String API_KEY = "tk-4f1c9e0b7d2a";

  @TempDir static Path certs;
  @TempDir Path home;

  private static TestCertificates.Authority ca;
  private static TestCertificates.Authority otherCa;
  private static TestCertificates.Issued client;
  private static FakeTemporal upstream;
  private static TlsProxy mtls;
  private static TlsProxy apiKeyOnly;

  @BeforeAll
  static void startProxies() throws Exception {
    ca = TestCertificates.authority(certs, "ca");
    otherCa = TestCertificates.authority(certs, "other-ca");
    client = ca.client("client");
    TestCertificates.Issued server = ca.server("server");
    Map<String, IndexedValueType> attributes = new LinkedHashMap<>();
    SearchKeys.ALL.forEach(d -> attributes.put(d.name(), d.type()));
    upstream = new FakeTemporal("default", attributes);
    mtls = new TlsProxy(upstream.address(), server, ca.cert, null);
    apiKeyOnly = new TlsProxy(upstream.address(), server, null, API_KEY);
  }

  @AfterAll
  static void stopProxies() throws Exception {
    mtls.close();
    apiKeyOnly.close();
    upstream.close();
  }

  /** The command line seeing only {@code env}: no TEMPORAL_* variables but those. */
  private Cli cli(Map<String, String> env) {
    return new Cli(home).withEnvironment(env);
  }

  private Cli.Result status(Map<String, String> env, String... connection) {
    List<String> args = new ArrayList<>(List.of("status", "x"));
    args.addAll(List.of(connection));
    return cli(env).run(args.toArray(String[]::new));
  }

  private Cli.Result status(String... connection) {
    return status(Map.of(), connection);
  }

  /** One line on stderr, exit 2: what a person sees for a setting to fix. */
  private static String oneLineExitTwo(Cli.Result result) {
    assertEquals(2, result.exitCode(), result.out() + result.err());
    assertEquals(1, result.err().lines().count(), result.err());
    assertEquals("", result.out());
    return result.err().strip();
  }

  // --- what works ---------------------------------------------------------------------------

  @Test
  void mutualTlsWithFlagsConnects() {
    Cli.Result doctor =
        cli(Map.of())
            .run(
                "doctor",
                "--address",
                mtls.address(),
                "--tls-ca-path",
                ca.cert.toString(),
                "--tls-cert-path",
                client.cert().toString(),
                "--tls-key-path",
                client.key().toString());

    assertTrue(
        doctor
            .out()
            .startsWith(
                "ok   temporal: "
                    + mtls.address()
                    + ", namespace default, mTLS, server 1.29.1\nok   search attributes:"),
        doctor.out());
  }

  @Test
  void aProfileFileAloneConfiguresMutualTls() throws Exception {
    Path file = home.resolve("temporal.toml");
    Files.writeString(
        file,
        """
        [profile.mtls]
        address = "%s"
        [profile.mtls.tls]
        client_cert_path = "%s"
        client_key_path = "%s"
        server_ca_cert_path = "%s"
        """
            .formatted(mtls.address(), client.cert(), client.key(), ca.cert));

    Cli.Result doctor =
        cli(Map.of("TEMPORAL_CONFIG_FILE", file.toString(), "TEMPORAL_PROFILE", "mtls"))
            .run("doctor");

    assertTrue(
        doctor.out().startsWith("ok   temporal: " + mtls.address() + ", namespace default, mTLS"),
        doctor.out());
  }

  @Test
  void theApiKeyGoesToTheServerAsABearerTokenOnEveryCall() {
    Cli.Result doctor =
        cli(Map.of("TEMPORAL_API_KEY", API_KEY))
            .run("doctor", "--address", apiKeyOnly.address(), "--tls-ca-path", ca.cert.toString());

    assertTrue(
        doctor
            .out()
            .startsWith(
                "ok   temporal: "
                    + apiKeyOnly.address()
                    + ", namespace default, TLS, API key, server 1.29.1\nok   search attributes:"),
        doctor.out());
    assertTrue(apiKeyOnly.authorizations().contains("Bearer " + API_KEY));
    assertFalse(doctor.out().contains(API_KEY), doctor.out());
  }

  // --- what the server refuses: one line, exit 2 ------------------------------------------------

  @Test
  void noClientCertificateForAServerThatWantsOneIsOneLine() {
    String line =
        oneLineExitTwo(status("--address", mtls.address(), "--tls-ca-path", ca.cert.toString()));

    assertTrue(
        line.startsWith("Temporal at " + mtls.address() + " refused the TLS handshake ("), line);
    assertTrue(
        line.endsWith(
            "it wants a client certificate (mTLS); pass --tls-cert-path and --tls-key-path (or"
                + " TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH)"),
        line);
  }

  @Test
  void aClientCertificateOfAnotherCaIsRefusedByItsFile() {
    TestCertificates.Issued stranger = otherCa.client("stranger");
    Map<String, String> env =
        Map.of(
            "TEMPORAL_TLS_CLIENT_CERT_PATH", stranger.cert().toString(),
            "TEMPORAL_TLS_CLIENT_KEY_PATH", stranger.key().toString());

    String line =
        oneLineExitTwo(
            status(env, "--address", mtls.address(), "--tls-ca-path", ca.cert.toString()));

    assertTrue(
        line.endsWith(
            "it does not accept the client certificate TEMPORAL_TLS_CLIENT_CERT_PATH="
                + stranger.cert()
                + "; use one signed by a CA the server trusts"),
        line);
  }

  @Test
  void aWrongApiKeyIsOneLineNamingWhereItCameFromButNotTheKey() {
    String line =
        oneLineExitTwo(
            status(
                Map.of("TEMPORAL_API_KEY", "tk-wrong-key"),
                "--address",
                apiKeyOnly.address(),
                "--tls-ca-path",
                ca.cert.toString()));

    assertEquals(
        "Temporal at "
            + apiKeyOnly.address()
            + " refused the API key from TEMPORAL_API_KEY: UNAUTHENTICATED the API key is not valid",
        line);
  }

  @Test
  void noApiKeyForAServerThatWantsOneSaysHowToPassOne() {
    String line =
        oneLineExitTwo(
            status("--address", apiKeyOnly.address(), "--tls-ca-path", ca.cert.toString()));

    assertTrue(line.contains("presented no credentials (pass an API key with --api-key"), line);
  }

  @Test
  void aServerCertificateOfACaThisMachineDoesNotTrustIsNamed() {
    String line = oneLineExitTwo(status("--address", apiKeyOnly.address(), "--tls"));

    assertEquals(
        "the TLS certificate of Temporal at "
            + apiKeyOnly.address()
            + " is not signed by a CA this machine trusts; pass the CA that signed it with"
            + " --tls-ca-path (or TEMPORAL_TLS_SERVER_CA_CERT_PATH)",
        line);
  }

  @Test
  void aServerCertificateForAnotherNameSaysWhichName() {
    String line =
        oneLineExitTwo(
            status(
                "--address",
                apiKeyOnly.address(),
                "--tls-ca-path",
                ca.cert.toString(),
                "--tls-server-name",
                "temporal.example.com"));

    assertTrue(
        line.startsWith(
            "the TLS certificate of Temporal at "
                + apiKeyOnly.address()
                + " is not made out to temporal.example.com ("),
        line);
  }

  @Test
  void tlsToAPlainServerSaysItDoesNotSpeakTls() {
    String line =
        oneLineExitTwo(
            status("--address", upstream.address(), "--tls-ca-path", ca.cert.toString()));

    assertEquals(
        "Temporal at "
            + upstream.address()
            + " does not speak TLS, but TLS is on (from --tls-ca-path); pass --tls=false (or"
            + " TEMPORAL_TLS=false), or the address of its TLS port",
        line);
  }

  @Test
  void plainGrpcToATlsServerSuggestsTls() {
    Cli.Result result = status("--address", mtls.address());

    assertEquals(1, result.exitCode(), result.err());
    assertTrue(
        result.err().contains("; if it serves TLS, pass --tls (or set TEMPORAL_TLS=true)"),
        result.err());
  }

  // --- files that cannot be used: named before anything connects --------------------------------

  @Test
  void aMissingCertificateFileIsNamedWithItsFlag() {
    Path missing = home.resolve("nope.pem");

    assertEquals(
        "--tls-cert-path " + missing + ": no such file",
        oneLineExitTwo(
            status(
                "--address",
                mtls.address(),
                "--tls-cert-path",
                missing.toString(),
                "--tls-key-path",
                client.key().toString())));
  }

  @Test
  void aKeyGivenAsTheCertificateIsNamed() {
    assertEquals(
        "--tls-cert-path "
            + client.key()
            + ": not a PEM client certificate (it holds a private key); expected -----BEGIN"
            + " CERTIFICATE-----",
        oneLineExitTwo(
            status(
                "--address",
                mtls.address(),
                "--tls-cert-path",
                client.key().toString(),
                "--tls-key-path",
                client.cert().toString())));
  }

  @Test
  void theKeyOfAnotherCertificateIsNamed() {
    TestCertificates.Issued another = ca.client("another");

    assertEquals(
        "--tls-key-path "
            + another.key()
            + ": this key is not the one of the client certificate --tls-cert-path "
            + client.cert()
            + "; pass the key the certificate was made for",
        oneLineExitTwo(
            status(
                "--address",
                mtls.address(),
                "--tls-cert-path",
                client.cert().toString(),
                "--tls-key-path",
                another.key().toString())));
  }

  @Test
  void anExpiredCertificateIsNamed() {
    TestCertificates.Issued old = ca.expiredClient("old");

    String line =
        oneLineExitTwo(
            status(
                "--address",
                mtls.address(),
                "--tls-cert-path",
                old.cert().toString(),
                "--tls-key-path",
                old.key().toString()));

    assertTrue(
        line.startsWith(
            "--tls-cert-path " + old.cert() + ": the client certificate CN=old expired on "),
        line);
  }

  @Test
  void aCertificateWithoutItsKeyIsNamed() {
    assertEquals(
        "--tls-cert-path "
            + client.cert()
            + ": a client certificate needs its private key; pass --tls-key-path (or"
            + " TEMPORAL_TLS_CLIENT_KEY_PATH)",
        oneLineExitTwo(
            status("--address", mtls.address(), "--tls-cert-path", client.cert().toString())));
  }

  @Test
  void aCaFileThatHoldsAKeyIsNamedWithItsVariable() {
    assertEquals(
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH="
            + client.key()
            + ": not a PEM CA certificate (it holds a private key); expected -----BEGIN"
            + " CERTIFICATE-----",
        oneLineExitTwo(
            status(
                Map.of("TEMPORAL_TLS_SERVER_CA_CERT_PATH", client.key().toString()),
                "--address",
                mtls.address())));
  }

  @Test
  void aPkcs1KeySaysHowToConvertIt() throws Exception {
    Path pkcs1 = home.resolve("rsa.key");
    Files.writeString(pkcs1, TestCertificates.pem("RSA PRIVATE KEY", new byte[] {1, 2, 3}));

    String line =
        oneLineExitTwo(
            status(
                "--address",
                mtls.address(),
                "--tls-cert-path",
                client.cert().toString(),
                "--tls-key-path",
                pkcs1.toString()));

    assertTrue(line.contains("openssl pkcs8 -topk8 -nocrypt"), line);
  }

  @Test
  void devRefusesConnectionFlagsItWouldIgnore() {
    assertEquals(
        "--api-key: `syllabus dev` serves a Temporal of its own on 127.0.0.1 without TLS;"
            + " connection settings are for the commands that reach one elsewhere (run, status,"
            + " worker, ...)",
        oneLineExitTwo(cli(Map.of()).run("dev", "--api-key", API_KEY)));
  }

  // --- help -------------------------------------------------------------------------------------

  @Test
  void helpSaysWhereEachConnectionSettingCanComeFrom() {
    String help = cli(Map.of()).run("run", "--help").out();

    for (String named :
        List.of(
            "--api-key",
            "TEMPORAL_API_KEY",
            "api_key",
            "--tls[=true|false]",
            "env TEMPORAL_TLS\n",
            "--tls-cert-path",
            "TEMPORAL_TLS_CLIENT_CERT_PATH",
            "tls.client_cert_path",
            "--tls-key-path",
            "TEMPORAL_TLS_CLIENT_KEY_PATH",
            "--tls-ca-path",
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
            "--tls-server-name",
            "TEMPORAL_TLS_SERVER_NAME",
            "--profile",
            "TEMPORAL_PROFILE",
            "--config-file",
            "TEMPORAL_CONFIG_FILE",
            "~/.config/temporalio/temporal.toml")) {
      assertTrue(help.contains(named), named + " in:\n" + help);
    }
  }
}
