package dev.syllabus.starter;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificate authorities and the certificates they sign, written as PEM files the way {@code
 * openssl} writes them (certificates, unencrypted PKCS#8 keys): what a Temporal server and its
 * clients are given.
 */
final class TestCertificates {
  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  /** A certificate and its key, as files. */
  record Issued(Path cert, Path key, X509Certificate certificate) {}

  /** A CA: its own certificate (the file a client or server trusts) and what it signs. */
  static final class Authority {
    private final String name;
    private final KeyPair keys;
    private final X509Certificate certificate;
    private final Path folder;
    final Path cert;

    private Authority(
        String name, KeyPair keys, X509Certificate certificate, Path folder, Path cert) {
      this.name = name;
      this.keys = keys;
      this.certificate = certificate;
      this.folder = folder;
      this.cert = cert;
    }

    /** A certificate for a server at localhost and 127.0.0.1. */
    Issued server(String fileName) {
      return issue(fileName, "localhost", KeyPurposeId.id_kp_serverAuth, Duration.ofDays(1), true);
    }

    /** A client certificate, for mTLS. */
    Issued client(String fileName) {
      return issue(fileName, fileName, KeyPurposeId.id_kp_clientAuth, Duration.ofDays(1), false);
    }

    /** A client certificate that expired yesterday. */
    Issued expiredClient(String fileName) {
      return issue(fileName, fileName, KeyPurposeId.id_kp_clientAuth, Duration.ofDays(-1), false);
    }

    private Issued issue(
        String fileName,
        String commonName,
        KeyPurposeId purpose,
        Duration validFor,
        boolean localhost) {
      try {
        KeyPair leaf = newKeys();
        Instant now = Instant.now();
        Instant notAfter = now.plus(validFor);
        Instant notBefore = validFor.isNegative() ? notAfter.minus(Duration.ofDays(30)) : now;
        X509v3CertificateBuilder builder =
            new JcaX509v3CertificateBuilder(
                certificate,
                BigInteger.valueOf(SERIAL.incrementAndGet()),
                Date.from(notBefore.minusSeconds(60)),
                Date.from(notAfter),
                new X500Name("CN=" + commonName),
                leaf.getPublic());
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        builder.addExtension(
            Extension.keyUsage,
            true,
            new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
        builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
        if (localhost) {
          builder.addExtension(
              Extension.subjectAlternativeName,
              false,
              new GeneralNames(
                  new GeneralName[] {
                    new GeneralName(GeneralName.dNSName, "localhost"),
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1")
                  }));
        }
        X509Certificate issued = sign(builder, keys);
        Path certFile =
            write(folder.resolve(fileName + ".pem"), pem("CERTIFICATE", issued.getEncoded()));
        Path keyFile =
            write(
                folder.resolve(fileName + ".key"),
                pem("PRIVATE KEY", leaf.getPrivate().getEncoded()));
        return new Issued(certFile, keyFile, issued);
      } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
        throw new IllegalStateException("cannot issue " + fileName + " by " + name, e);
      }
    }
  }

  private TestCertificates() {}

  /** A new self-signed CA whose certificate is {@code folder/<name>.pem}. */
  static Authority authority(Path folder, String name) {
    try {
      KeyPair keys = newKeys();
      Instant now = Instant.now();
      X500Name subject = new X500Name("CN=" + name);
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              subject,
              BigInteger.valueOf(SERIAL.incrementAndGet()),
              Date.from(now.minusSeconds(60)),
              Date.from(now.plus(Duration.ofDays(2))),
              subject,
              keys.getPublic());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      builder.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      X509Certificate certificate = sign(builder, keys);
      Files.createDirectories(folder);
      Path cert =
          write(folder.resolve(name + ".pem"), pem("CERTIFICATE", certificate.getEncoded()));
      return new Authority(name, keys, certificate, folder, cert);
    } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
      throw new IllegalStateException("cannot make CA " + name, e);
    }
  }

  private static KeyPair newKeys() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return generator.generateKeyPair();
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair issuer)
      throws OperatorCreationException, GeneralSecurityException {
    return new JcaX509CertificateConverter()
        .getCertificate(
            builder.build(
                new JcaContentSignerBuilder("SHA256withECDSA").build(issuer.getPrivate())));
  }

  static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  private static Path write(Path file, String text) throws IOException {
    Files.writeString(file, text);
    return file;
  }
}
