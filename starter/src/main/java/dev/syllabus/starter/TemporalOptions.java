package dev.syllabus.starter;

import com.uber.m3.tally.NoopScope;
import com.uber.m3.tally.Scope;
import dev.syllabus.worker.ConnectionSettings;
import dev.syllabus.worker.Temporal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * Where the Temporal service is and how to reach it, for every command: the {@code temporal} CLI's
 * connection flags, its {@code TEMPORAL_*} variables and its profile file, in that order of
 * precedence, so that whatever makes {@code temporal workflow list} work makes {@code syllabus}
 * work too.
 */
public final class TemporalOptions {

  /** How long Temporal may take to answer when a command connects. */
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  // Each description: what it is, then where else it can come from, one per line (picocli would
  // break a long profile key at its dot).

  @Option(
      names = "--address",
      paramLabel = "HOST:PORT",
      description = {
        "Temporal frontend (default " + ConnectionSettings.DEFAULT_ADDRESS + ")",
        "env TEMPORAL_ADDRESS",
        "profile: address"
      },
      scope = ScopeType.INHERIT)
  String address;

  @Option(
      names = "--namespace",
      paramLabel = "NS",
      description = {
        "Temporal namespace (default " + ConnectionSettings.DEFAULT_NAMESPACE + ")",
        "env TEMPORAL_NAMESPACE",
        "profile: namespace"
      },
      scope = ScopeType.INHERIT)
  String namespace;

  @Option(
      names = "--api-key",
      paramLabel = "KEY",
      description = {
        "API key, sent as a bearer token; turns TLS on. Prefer the variable or the profile: a"
            + " flag shows in the process list",
        "env TEMPORAL_API_KEY",
        "profile: api_key"
      },
      scope = ScopeType.INHERIT)
  String apiKey;

  @Option(
      names = "--tls",
      arity = "0..1",
      paramLabel = "true|false",
      fallbackValue = "true",
      description = {
        "TLS, trusting this machine's CAs unless --tls-ca-path; on by itself with an API key or"
            + " any --tls-* option; --tls=false turns it off",
        "env TEMPORAL_TLS",
        "profile: tls (a [profile.NAME.tls] table)"
      },
      scope = ScopeType.INHERIT)
  Boolean tls;

  @Option(
      names = "--tls-cert-path",
      paramLabel = "FILE",
      description = {
        "client certificate for mTLS, PEM",
        "env TEMPORAL_TLS_CLIENT_CERT_PATH",
        "profile: tls.client_cert_path"
      },
      scope = ScopeType.INHERIT)
  Path tlsCertPath;

  @Option(
      names = "--tls-key-path",
      paramLabel = "FILE",
      description = {
        "the client certificate's private key, PEM PKCS#8",
        "env TEMPORAL_TLS_CLIENT_KEY_PATH",
        "profile: tls.client_key_path"
      },
      scope = ScopeType.INHERIT)
  Path tlsKeyPath;

  @Option(
      names = "--tls-ca-path",
      paramLabel = "FILE",
      description = {
        "CA that signed the server's certificate, PEM (default: this machine's CAs)",
        "env TEMPORAL_TLS_SERVER_CA_CERT_PATH",
        "profile: tls.server_ca_cert_path"
      },
      scope = ScopeType.INHERIT)
  Path tlsCaPath;

  @Option(
      names = "--tls-server-name",
      paramLabel = "NAME",
      description = {
        "the name the server's certificate is made out to, when not the address's host",
        "env TEMPORAL_TLS_SERVER_NAME",
        "profile: tls.server_name"
      },
      scope = ScopeType.INHERIT)
  String tlsServerName;

  @Option(
      names = "--tls-disable-host-verification",
      description = {
        "accept a server certificate made out to another name, or, without --tls-ca-path, any"
            + " server certificate",
        "env TEMPORAL_TLS_DISABLE_HOST_VERIFICATION",
        "profile: tls.disable_host_verification"
      },
      scope = ScopeType.INHERIT)
  Boolean tlsDisableHostVerification;

  @Option(
      names = "--profile",
      paramLabel = "NAME",
      description = {
        "profile of the profile file (default: default). Flags win over TEMPORAL_* variables,"
            + " which win over the profile, as in the temporal CLI",
        "env TEMPORAL_PROFILE"
      },
      scope = ScopeType.INHERIT)
  String profile;

  @Option(
      names = "--config-file",
      paramLabel = "FILE",
      description = {
        "the temporal CLI's profile file (TOML), default:",
        "~/.config/temporalio/temporal.toml",
        "env TEMPORAL_CONFIG_FILE"
      },
      scope = ScopeType.INHERIT)
  Path configFile;

  @Option(
      names = "--disable-config-file",
      description = "read no profile file",
      scope = ScopeType.INHERIT)
  boolean disableConfigFile;

  @Option(
      names = "--disable-config-env",
      description = "read no TEMPORAL_* variables",
      scope = ScopeType.INHERIT)
  boolean disableConfigEnv;

  private final Map<String, String> environment;

  /**
   * Resolved on first use; kept so that a later refusal can name where the credentials came from.
   */
  private ConnectionSettings settings;

  public TemporalOptions() {
    this(System.getenv());
  }

  TemporalOptions(Map<String, String> environment) {
    this.environment = environment;
  }

  /**
   * The settings: flags over {@code TEMPORAL_*} variables over the profile file.
   *
   * @throws Exit.BadInput naming the setting that cannot be used
   */
  public ConnectionSettings settings() {
    if (settings == null) {
      try {
        settings = ConnectionSettings.load(flags(), environment);
      } catch (ConnectionSettings.BadSetting e) {
        throw new Exit.BadInput(e.getMessage());
      }
    }
    return settings;
  }

  private ConnectionSettings.Flags flags() {
    return new ConnectionSettings.Flags(
        address,
        namespace,
        apiKey,
        tls,
        tlsCertPath,
        tlsKeyPath,
        tlsCaPath,
        tlsServerName,
        tlsDisableHostVerification,
        profile,
        configFile,
        disableConfigFile,
        disableConfigEnv);
  }

  public String address() {
    return settings().address();
  }

  public String namespace() {
    return settings().namespace();
  }

  /** Whether the Temporal these settings reach would run on this machine (a loopback address). */
  boolean onThisMachine() {
    String address = address();
    String host;
    if (address.startsWith("[") && address.contains("]")) {
      host = address.substring(1, address.indexOf(']'));
    } else {
      int colon = address.lastIndexOf(':');
      host = colon < 0 ? address : address.substring(0, colon);
    }
    return host.equals("127.0.0.1") || host.equals("localhost") || host.equals("::1");
  }

  /**
   * The namespace for {@code dev} and {@code demo}, which serve a Temporal of their own: {@code
   * --namespace}, else {@code TEMPORAL_NAMESPACE}, else {@code default}; the profile file is for
   * reaching a Temporal elsewhere.
   */
  String localNamespace() {
    if (namespace != null) {
      return namespace;
    }
    String fromEnv = environment.get("TEMPORAL_NAMESPACE");
    return fromEnv != null && !fromEnv.isEmpty() ? fromEnv : ConnectionSettings.DEFAULT_NAMESPACE;
  }

  /**
   * For {@code dev} and {@code demo}, which serve a Temporal of their own on 127.0.0.1 in plain
   * gRPC: a flag for reaching one elsewhere would be ignored, so it is refused instead. (The {@code
   * TEMPORAL_*} variables and the profile file are simply not read.)
   */
  void refuseRemoteFlags(String command) {
    Map<String, Object> given = new LinkedHashMap<>();
    given.put("--api-key", apiKey);
    given.put("--tls", tls);
    given.put("--tls-cert-path", tlsCertPath);
    given.put("--tls-key-path", tlsKeyPath);
    given.put("--tls-ca-path", tlsCaPath);
    given.put("--tls-server-name", tlsServerName);
    given.put("--tls-disable-host-verification", tlsDisableHostVerification);
    given.put("--profile", profile);
    given.put("--config-file", configFile);
    for (Map.Entry<String, Object> flag : given.entrySet()) {
      if (flag.getValue() != null) {
        throw new Exit.BadInput(
            flag.getKey()
                + ": `syllabus "
                + command
                + "` serves a Temporal of its own on 127.0.0.1 without TLS; connection settings"
                + " are for the commands that reach one elsewhere (run, status, worker, ...)");
      }
    }
  }

  /**
   * Connects: a bad setting or a refusal (TLS handshake, certificate, API key) is bad input, exit
   * 2; a Temporal that does not answer is a failure, exit 1.
   */
  Temporal connect() {
    return connect(new NoopScope());
  }

  /** Connects a worker, which reports its metrics to {@code metrics}. */
  Temporal connect(Scope metrics) {
    try {
      return Temporal.connect(settings(), TIMEOUT, metrics);
    } catch (ConnectionSettings.BadSetting | Temporal.Refused e) {
      throw new Exit.BadInput(e.getMessage());
    } catch (Temporal.Unreachable e) {
      throw new Exit.Failed(e.getMessage());
    }
  }

  /** What the server refused, if {@code e} is a refusal of these settings' credentials. */
  Optional<String> refusal(Throwable e) {
    return Temporal.refusal(e, settings);
  }
}
