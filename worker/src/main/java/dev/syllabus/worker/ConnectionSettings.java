package dev.syllabus.worker;

import io.temporal.client.WorkflowClientOptions;
import io.temporal.envconfig.ClientConfigProfile;
import io.temporal.envconfig.ClientConfigTLS;
import io.temporal.envconfig.LoadClientConfigProfileOptions;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How this process reaches Temporal: address, namespace, TLS and API key, resolved as the {@code
 * temporal} CLI resolves them, so that a user who has {@code temporal} working needs no new
 * settings. A command-line flag wins over a {@code TEMPORAL_*} environment variable, which wins
 * over the profile file ({@code TEMPORAL_CONFIG_FILE}, else {@code
 * ~/.config/temporalio/temporal.toml}; profile {@code TEMPORAL_PROFILE}, else {@code default}). The
 * file and the variables are read by the Java SDK's environment configuration; this class adds the
 * flags on top and remembers where each setting came from, so that a bad file or a refused
 * credential is reported by the flag, variable or profile entry that set it.
 *
 * <p>Not a record: the API key must never show in a {@code toString}, a log line or a message.
 */
public final class ConnectionSettings {
  /** Where Temporal is when nothing says otherwise: a local dev server. */
  public static final String DEFAULT_ADDRESS = "127.0.0.1:7233";

  public static final String DEFAULT_NAMESPACE = "default";

  /** The profile read from the profile file when none is named. */
  public static final String DEFAULT_PROFILE = "default";

  /** The settings the {@code temporal} CLI reads, by flag, environment variable and file key. */
  enum Setting {
    ADDRESS("--address", "TEMPORAL_ADDRESS", "address"),
    NAMESPACE("--namespace", "TEMPORAL_NAMESPACE", "namespace"),
    API_KEY("--api-key", "TEMPORAL_API_KEY", "api_key"),
    TLS("--tls", "TEMPORAL_TLS", "tls.disabled"),
    CLIENT_CERT("--tls-cert-path", "TEMPORAL_TLS_CLIENT_CERT_PATH", "tls.client_cert_path"),
    CLIENT_CERT_DATA(null, "TEMPORAL_TLS_CLIENT_CERT_DATA", "tls.client_cert_data"),
    CLIENT_KEY("--tls-key-path", "TEMPORAL_TLS_CLIENT_KEY_PATH", "tls.client_key_path"),
    CLIENT_KEY_DATA(null, "TEMPORAL_TLS_CLIENT_KEY_DATA", "tls.client_key_data"),
    SERVER_CA("--tls-ca-path", "TEMPORAL_TLS_SERVER_CA_CERT_PATH", "tls.server_ca_cert_path"),
    SERVER_CA_DATA(null, "TEMPORAL_TLS_SERVER_CA_CERT_DATA", "tls.server_ca_cert_data"),
    SERVER_NAME("--tls-server-name", "TEMPORAL_TLS_SERVER_NAME", "tls.server_name"),
    DISABLE_HOST_VERIFICATION(
        "--tls-disable-host-verification",
        "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION",
        "tls.disable_host_verification");

    final String flag;
    final String env;
    final String fileKey;

    Setting(String flag, String env, String fileKey) {
      this.flag = flag;
      this.env = env;
      this.fileKey = fileKey;
    }
  }

  public static final String PROFILE_ENV = "TEMPORAL_PROFILE";
  public static final String CONFIG_FILE_ENV = "TEMPORAL_CONFIG_FILE";

  /**
   * What the command line said; null (false for the switches) where it said nothing. {@code
   * toString} leaves the API key out.
   */
  public record Flags(
      String address,
      String namespace,
      String apiKey,
      Boolean tls,
      Path tlsCertPath,
      Path tlsKeyPath,
      Path tlsCaPath,
      String tlsServerName,
      Boolean tlsDisableHostVerification,
      String profile,
      Path configFile,
      boolean disableConfigFile,
      boolean disableConfigEnv) {

    /** Nothing on the command line: the environment and the profile file decide. */
    public static Flags none() {
      return new Flags(
          null, null, null, null, null, null, null, null, null, null, null, false, false);
    }

    @Override
    public String toString() {
      return "Flags[address="
          + address
          + ", namespace="
          + namespace
          + ", apiKey="
          + (apiKey == null ? "none" : "(set)")
          + ", tls="
          + tls
          + "]";
    }
  }

  private final ClientConfigProfile profile;
  private final Flags flags;
  private final Map<String, String> env;

  /** The profile file read, or null when none was (disabled, or none at the default path). */
  private final Path file;

  private final String profileName;

  private ConnectionSettings(
      ClientConfigProfile profile,
      Flags flags,
      Map<String, String> env,
      Path file,
      String profileName) {
    this.profile = profile;
    this.flags = flags;
    this.env = env;
    this.file = file;
    this.profileName = profileName;
  }

  /** Plain gRPC to {@code address}: how {@code syllabus dev} reaches the server it started. */
  public static ConnectionSettings plain(String address, String namespace) {
    return new ConnectionSettings(
        ClientConfigProfile.newBuilder().setAddress(address).setNamespace(namespace).build(),
        Flags.none(),
        Map.of(),
        null,
        DEFAULT_PROFILE);
  }

  /**
   * Reads the profile file and {@code env} as the {@code temporal} CLI does, puts {@code flags} on
   * top, and checks every certificate and key it names.
   *
   * @throws BadSetting naming the flag, variable or profile entry that is wrong
   */
  public static ConnectionSettings load(Flags flags, Map<String, String> env) {
    String profileName =
        flags.profile() != null
            ? flags.profile()
            : nonEmpty(env.get(PROFILE_ENV)) ? env.get(PROFILE_ENV) : null;
    Path file = flags.disableConfigFile() ? null : configFile(flags, env);
    ClientConfigProfile loaded = readFileAndEnv(flags, env, file, profileName);
    ConnectionSettings settings =
        new ConnectionSettings(
            withFlags(loaded, flags),
            flags,
            flags.disableConfigEnv() ? Map.of() : env,
            file != null && Files.isRegularFile(file) ? file : null,
            profileName != null ? profileName : DEFAULT_PROFILE);
    settings.checkFiles();
    return settings;
  }

  /** The profile file the flags or the environment name, else the {@code temporal} CLI's own. */
  private static Path configFile(Flags flags, Map<String, String> env) {
    if (flags.configFile() != null) {
      requireReadable(flags.configFile(), "--config-file " + flags.configFile());
      return flags.configFile();
    }
    if (nonEmpty(env.get(CONFIG_FILE_ENV))) {
      Path named = Path.of(env.get(CONFIG_FILE_ENV));
      requireReadable(named, CONFIG_FILE_ENV + "=" + named);
      return named;
    }
    String home = System.getProperty("user.home");
    if (home == null || home.isEmpty()) {
      return null;
    }
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    return os.contains("mac")
        ? Path.of(home, "Library", "Application Support", "temporalio", "temporal.toml")
        : Path.of(home, ".config", "temporalio", "temporal.toml");
  }

  private static void requireReadable(Path file, String named) {
    if (!Files.exists(file)) {
      throw new BadSetting(named + ": no such file");
    }
    if (!Files.isRegularFile(file)) {
      throw new BadSetting(named + ": not a file");
    }
    if (!Files.isReadable(file)) {
      throw new BadSetting(named + ": cannot read it (permission denied)");
    }
  }

  private static ClientConfigProfile readFileAndEnv(
      Flags flags, Map<String, String> env, Path file, String profileName) {
    boolean noFile = file == null || !Files.exists(file);
    if (noFile && profileName != null) {
      throw new BadSetting(
          profileOrigin(flags, profileName)
              + ": there is no profile file"
              + (file == null ? "" : " (" + file + ")")
              + " to find it in; name one with --config-file or "
              + CONFIG_FILE_ENV);
    }
    if ((noFile || flags.disableConfigFile()) && flags.disableConfigEnv()) {
      return ClientConfigProfile.getDefaultInstance();
    }
    LoadClientConfigProfileOptions.Builder options =
        LoadClientConfigProfileOptions.newBuilder()
            .setEnvOverrides(env)
            .setDisableEnv(flags.disableConfigEnv())
            .setDisableFile(noFile || flags.disableConfigFile())
            .setConfigFileProfile(profileName);
    if (!noFile) {
      options.setConfigFilePath(file.toString());
    }
    try {
      return ClientConfigProfile.load(options.build());
    } catch (NullPointerException e) {
      // The SDK (1.38) fails on a file without any [profile.*]; such a file sets nothing.
      if (profileName != null) {
        throw new BadSetting(
            profileOrigin(flags, profileName) + ": no [profile." + profileName + "] in " + file);
      }
    } catch (IOException e) {
      throw new BadSetting("profile file " + file + ": " + firstLine(e.getMessage()));
    } catch (IllegalArgumentException e) {
      throw new BadSetting(
          profileOrigin(flags, profileName) + ": no [profile." + profileName + "] in " + file);
    }
    if (flags.disableConfigEnv()) {
      return ClientConfigProfile.getDefaultInstance();
    }
    try {
      return ClientConfigProfile.load(options.setDisableFile(true).build());
    } catch (IOException e) {
      throw new UncheckedIOException(e); // no file is read
    }
  }

  private static String profileOrigin(Flags flags, String profileName) {
    return flags.profile() != null ? "--profile " + profileName : PROFILE_ENV + "=" + profileName;
  }

  /** The profile with the flags put on top, as the {@code temporal} CLI puts them. */
  private static ClientConfigProfile withFlags(ClientConfigProfile loaded, Flags flags) {
    ClientConfigProfile.Builder profile = loaded.toBuilder();
    if (flags.address() != null) {
      profile.setAddress(flags.address());
    }
    if (flags.namespace() != null) {
      profile.setNamespace(flags.namespace());
    }
    if (flags.apiKey() != null) {
      profile.setApiKey(flags.apiKey());
    }
    boolean tlsFlags =
        flags.tls() != null
            || flags.tlsCertPath() != null
            || flags.tlsKeyPath() != null
            || flags.tlsCaPath() != null
            || flags.tlsServerName() != null
            || flags.tlsDisableHostVerification() != null;
    if (tlsFlags) {
      ClientConfigTLS.Builder tls =
          loaded.getTls() != null ? loaded.getTls().toBuilder() : ClientConfigTLS.newBuilder();
      if (flags.tls() != null) {
        tls.setDisabled(!flags.tls());
      }
      if (flags.tlsCertPath() != null) {
        tls.setClientCertPath(flags.tlsCertPath().toString()).setClientCertData(null);
      }
      if (flags.tlsKeyPath() != null) {
        tls.setClientKeyPath(flags.tlsKeyPath().toString()).setClientKeyData(null);
      }
      if (flags.tlsCaPath() != null) {
        tls.setServerCACertPath(flags.tlsCaPath().toString()).setServerCACertData(null);
      }
      if (flags.tlsServerName() != null) {
        tls.setServerName(flags.tlsServerName());
      }
      if (flags.tlsDisableHostVerification() != null) {
        tls.setDisableHostVerification(flags.tlsDisableHostVerification());
      }
      profile.setTls(tls.build());
    }
    return profile.build();
  }

  // --- what was resolved ------------------------------------------------------------------------

  public String address() {
    return nonEmpty(profile.getAddress()) ? profile.getAddress() : DEFAULT_ADDRESS;
  }

  public String namespace() {
    return nonEmpty(profile.getNamespace()) ? profile.getNamespace() : DEFAULT_NAMESPACE;
  }

  /**
   * Whether the connection is TLS: a {@code tls} setting that does not turn it off, or an API key
   * (which the Java SDK, like the CLI, never sends in the clear unless TLS is turned off).
   */
  public boolean tls() {
    ClientConfigTLS tls = profile.getTls();
    if (tls != null) {
      return !Boolean.TRUE.equals(tls.isDisabled());
    }
    return hasApiKey();
  }

  public boolean hasApiKey() {
    return nonEmpty(profile.getApiKey());
  }

  public boolean hasClientCertificate() {
    return tls() && clientCert() != null;
  }

  /** One line for a person: where, which namespace, and how, without any secret. */
  public String describe() {
    List<String> how = new ArrayList<>();
    how.add("namespace " + namespace());
    if (tls()) {
      how.add(hasClientCertificate() ? "mTLS" : "TLS");
    }
    if (hasApiKey()) {
      how.add("API key");
    }
    return address() + " (" + String.join(", ", how) + ")";
  }

  @Override
  public String toString() {
    return "ConnectionSettings[" + describe() + "]";
  }

  // --- where each setting came from -------------------------------------------------------------

  /**
   * Where {@code setting} came from, as a person would change it: {@code --tls-cert-path}, {@code
   * TEMPORAL_TLS_CLIENT_CERT_PATH}, or {@code tls.client_cert_path of profile mtls in FILE}.
   */
  String origin(Setting setting) {
    if (setting.flag != null && flagGiven(setting)) {
      return setting.flag;
    }
    if (nonEmpty(env.get(setting.env))) {
      return setting.env;
    }
    if (file != null) {
      return setting.fileKey + " of profile " + profileName + " in " + file;
    }
    return setting.flag != null ? setting.flag : setting.env;
  }

  private boolean flagGiven(Setting setting) {
    return switch (setting) {
      case ADDRESS -> flags.address() != null;
      case NAMESPACE -> flags.namespace() != null;
      case API_KEY -> flags.apiKey() != null;
      case TLS -> flags.tls() != null;
      case CLIENT_CERT -> flags.tlsCertPath() != null;
      case CLIENT_KEY -> flags.tlsKeyPath() != null;
      case SERVER_CA -> flags.tlsCaPath() != null;
      case SERVER_NAME -> flags.tlsServerName() != null;
      case DISABLE_HOST_VERIFICATION -> flags.tlsDisableHostVerification() != null;
      case CLIENT_CERT_DATA, CLIENT_KEY_DATA, SERVER_CA_DATA -> false;
    };
  }

  /** How to pass {@code setting}: "--tls-cert-path (or TEMPORAL_TLS_CLIENT_CERT_PATH)". */
  static String howToSet(Setting setting) {
    return setting.flag + " (or " + setting.env + ")";
  }

  /** The API key's origin, for messages; never its value. */
  String apiKeyOrigin() {
    return origin(Setting.API_KEY);
  }

  /** The client certificate, as a person would name it: its file and what named the file. */
  String clientCertificateOrigin() {
    Pem cert = clientCert();
    return cert == null ? null : cert.named();
  }

  String serverCaOrigin() {
    Pem ca = serverCa();
    return ca == null ? null : ca.named();
  }

  /** Why TLS is on: the setting that turned it on. */
  String tlsOrigin() {
    ClientConfigTLS tls = profile.getTls();
    if (tls == null) {
      return origin(Setting.API_KEY) + " (an API key turns TLS on)";
    }
    for (Setting s :
        List.of(
            Setting.TLS,
            Setting.CLIENT_CERT,
            Setting.CLIENT_CERT_DATA,
            Setting.CLIENT_KEY,
            Setting.SERVER_CA,
            Setting.SERVER_CA_DATA,
            Setting.SERVER_NAME)) {
      if ((s.flag != null && flagGiven(s)) || nonEmpty(env.get(s.env))) {
        return origin(s);
      }
    }
    return file != null ? "the tls section of profile " + profileName + " in " + file : "--tls";
  }

  /** The name the server's certificate must have: the server name, else the address's host. */
  String serverName() {
    ClientConfigTLS tls = profile.getTls();
    if (tls != null && nonEmpty(tls.getServerName())) {
      return tls.getServerName();
    }
    String address = address();
    int colon = address.lastIndexOf(':');
    return colon > 0 ? address.substring(0, colon) : address;
  }

  // --- the files --------------------------------------------------------------------------------

  /**
   * A certificate or key: a file, or PEM text inline. {@code named} is how a person finds it:
   * {@code --tls-cert-path /x.pem}, {@code TEMPORAL_TLS_CLIENT_CERT_PATH=/x.pem}, or {@code /x.pem
   * (tls.client_cert_path of profile mtls in FILE)}.
   */
  record Pem(Path path, byte[] data, String named) {}

  Pem clientCert() {
    ClientConfigTLS tls = profile.getTls();
    return tls == null
        ? null
        : pem(
            tls.getClientCertPath(),
            tls.getClientCertData(),
            Setting.CLIENT_CERT,
            Setting.CLIENT_CERT_DATA);
  }

  Pem clientKey() {
    ClientConfigTLS tls = profile.getTls();
    return tls == null
        ? null
        : pem(
            tls.getClientKeyPath(),
            tls.getClientKeyData(),
            Setting.CLIENT_KEY,
            Setting.CLIENT_KEY_DATA);
  }

  Pem serverCa() {
    ClientConfigTLS tls = profile.getTls();
    return tls == null
        ? null
        : pem(
            tls.getServerCACertPath(),
            tls.getServerCACertData(),
            Setting.SERVER_CA,
            Setting.SERVER_CA_DATA);
  }

  /** As the SDK chooses: the path when there is one, else the inline data. */
  private Pem pem(String path, byte[] data, Setting pathSetting, Setting dataSetting) {
    if (nonEmpty(path)) {
      return new Pem(Path.of(path), null, named(pathSetting, path));
    }
    if (data != null && data.length > 0) {
      return new Pem(null, data, origin(dataSetting));
    }
    return null;
  }

  /** {@code setting} with its {@code value}, as whatever set it spells it. */
  private String named(Setting setting, String value) {
    String origin = origin(setting);
    if (origin.equals(setting.flag)) {
      return setting.flag + " " + value;
    }
    if (origin.equals(setting.env)) {
      return setting.env + "=" + value;
    }
    return value + " (" + origin + ")";
  }

  /** Every certificate and key is readable, is what it should be, and the pair belongs together. */
  private void checkFiles() {
    if (!tls()) {
      return;
    }
    Pem cert = clientCert();
    Pem key = clientKey();
    if (cert != null && key == null) {
      throw new BadSetting(
          cert.named()
              + ": a client certificate needs its private key; pass "
              + howToSet(Setting.CLIENT_KEY));
    }
    if (key != null && cert == null) {
      throw new BadSetting(
          key.named()
              + ": a private key needs its client certificate; pass "
              + howToSet(Setting.CLIENT_CERT));
    }
    if (cert != null) {
      Pems.checkKeyPair(cert, key);
    }
    Pem ca = serverCa();
    if (ca != null) {
      Pems.certificates(ca, "CA certificate");
    }
  }

  // --- what the SDK is given --------------------------------------------------------------------

  /** The service stubs' options: target, TLS and the API key, as the SDK builds them. */
  public WorkflowServiceStubsOptions serviceStubsOptions() {
    WorkflowServiceStubsOptions built;
    try {
      built = profile.toWorkflowServiceStubsOptions();
    } catch (RuntimeException e) {
      throw new BadSetting("cannot set up TLS: " + firstLine(Temporal.rootMessage(e)));
    }
    WorkflowServiceStubsOptions.Builder options = WorkflowServiceStubsOptions.newBuilder(built);
    if (!nonEmpty(profile.getAddress())) {
      options.setTarget(DEFAULT_ADDRESS);
    }
    if (!tls()) {
      // The SDK turns TLS on for an API key unless told not to; TLS turned off stays off, as in
      // the `temporal` CLI.
      options.setEnableHttps(false);
    }
    return options.build();
  }

  /** The client's options: the namespace. */
  public WorkflowClientOptions clientOptions() {
    return WorkflowClientOptions.newBuilder(profile.toWorkflowClientOptions())
        .setNamespace(namespace())
        .build();
  }

  // --- helpers ----------------------------------------------------------------------------------

  static boolean nonEmpty(String s) {
    return s != null && !s.isEmpty();
  }

  static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int newline = s.indexOf('\n');
    return (newline < 0 ? s : s.substring(0, newline)).strip();
  }

  /** A setting that cannot be used; the message names it and says what is wrong. */
  public static final class BadSetting extends RuntimeException {
    public BadSetting(String message) {
      super(message);
    }
  }
}
