package dev.syllabus.worker;

import dev.syllabus.worker.ConnectionSettings.BadSetting;
import dev.syllabus.worker.ConnectionSettings.Pem;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the certificates and the key a connection names before the SDK does, so that a missing
 * file, a key given as the certificate, an expired certificate or a key of another certificate is
 * one line naming the setting, instead of a failed handshake later.
 *
 * <p>It accepts what the SDK's TLS (Netty, without BouncyCastle) accepts: PEM certificates and
 * unencrypted PKCS#8 keys ({@code BEGIN PRIVATE KEY}).
 */
final class Pems {
  private static final Pattern PKCS8 =
      Pattern.compile(
          "-----BEGIN PRIVATE KEY-----\\s*([A-Za-z0-9+/=\\s]+?)-----END PRIVATE KEY-----");

  private Pems() {}

  /** The certificates in {@code pem}, each valid today. */
  static List<X509Certificate> certificates(Pem pem, String what) {
    String text = text(pem);
    if (!text.contains("-----BEGIN CERTIFICATE-----")) {
      throw new BadSetting(
          pem.named()
              + ": not a PEM "
              + what
              + (text.contains("PRIVATE KEY") ? " (it holds a private key)" : "")
              + "; expected -----BEGIN CERTIFICATE-----");
    }
    Collection<? extends java.security.cert.Certificate> parsed;
    try {
      parsed =
          CertificateFactory.getInstance("X.509")
              .generateCertificates(
                  new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
    } catch (CertificateException e) {
      throw new BadSetting(
          pem.named()
              + ": not a valid PEM "
              + what
              + " ("
              + ConnectionSettings.firstLine(e.getMessage())
              + ")");
    }
    if (parsed.isEmpty()) {
      throw new BadSetting(pem.named() + ": holds no " + what);
    }
    List<X509Certificate> certificates = parsed.stream().map(X509Certificate.class::cast).toList();
    X509Certificate first = certificates.get(0);
    try {
      first.checkValidity();
    } catch (CertificateExpiredException e) {
      throw new BadSetting(
          pem.named()
              + ": the "
              + what
              + " "
              + first.getSubjectX500Principal().getName()
              + " expired on "
              + first.getNotAfter().toInstant());
    } catch (CertificateNotYetValidException e) {
      throw new BadSetting(
          pem.named()
              + ": the "
              + what
              + " "
              + first.getSubjectX500Principal().getName()
              + " is not valid before "
              + first.getNotBefore().toInstant());
    }
    return certificates;
  }

  /** The client certificate and its key read, and the key is the certificate's. */
  static void checkKeyPair(Pem certPem, Pem keyPem) {
    X509Certificate cert = certificates(certPem, "client certificate").get(0);
    PrivateKey key = privateKey(keyPem);
    if (!belongTogether(cert, key)) {
      throw new BadSetting(
          keyPem.named()
              + ": this key is not the one of the client certificate "
              + certPem.named()
              + "; pass the key the certificate was made for");
    }
  }

  static PrivateKey privateKey(Pem pem) {
    String text = text(pem);
    Matcher pkcs8 = PKCS8.matcher(text);
    if (!pkcs8.find()) {
      String problem;
      if (text.contains("BEGIN ENCRYPTED PRIVATE KEY")) {
        problem =
            "the key is encrypted, which the Java SDK cannot read; write it unencrypted with"
                + " `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pkcs8.pem`";
      } else if (text.matches("(?s).*BEGIN (RSA|EC|DSA) PRIVATE KEY.*")) {
        problem =
            "a PKCS#1/SEC1 key, which the Java SDK cannot read; convert it to PKCS#8 with"
                + " `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pkcs8.pem`";
      } else if (text.contains("BEGIN CERTIFICATE")) {
        problem =
            "it holds a certificate, not a private key (are the certificate and the key"
                + " swapped?)";
      } else {
        problem = "not a PEM private key; expected -----BEGIN PRIVATE KEY-----";
      }
      throw new BadSetting(pem.named() + ": " + problem);
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(pkcs8.group(1));
    } catch (IllegalArgumentException e) {
      throw new BadSetting(pem.named() + ": the private key is not valid base64");
    }
    for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448", "DSA")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        // try the next algorithm
      }
    }
    throw new BadSetting(pem.named() + ": not a private key Java can read (RSA, EC or Ed25519)");
  }

  /** Whether a signature made with {@code key} verifies with the certificate's public key. */
  private static boolean belongTogether(X509Certificate cert, PrivateKey key) {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          case "DSA" -> "SHA256withDSA";
          default -> key.getAlgorithm(); // Ed25519, Ed448: the key's algorithm is the signature's
        };
    byte[] probe =
        "syllabus: does this key belong to this certificate?".getBytes(StandardCharsets.UTF_8);
    try {
      Signature sign = Signature.getInstance(algorithm);
      sign.initSign(key);
      sign.update(probe);
      byte[] signature = sign.sign();
      Signature verify = Signature.getInstance(algorithm);
      verify.initVerify(cert.getPublicKey());
      verify.update(probe);
      return verify.verify(signature);
    } catch (GeneralSecurityException e) {
      // A key of another kind than the certificate's (an EC key for an RSA certificate) cannot
      // be its key; one of the same kind that this JVM cannot sign with is left to the handshake.
      return key.getAlgorithm().equals(cert.getPublicKey().getAlgorithm());
    }
  }

  private static String text(Pem pem) {
    if (pem.data() != null) {
      return new String(pem.data(), StandardCharsets.UTF_8);
    }
    if (Files.isDirectory(pem.path())) {
      throw new BadSetting(pem.named() + ": a folder, not a file");
    }
    try {
      return Files.readString(pem.path(), StandardCharsets.ISO_8859_1);
    } catch (NoSuchFileException e) {
      throw new BadSetting(pem.named() + ": no such file");
    } catch (AccessDeniedException e) {
      throw new BadSetting(pem.named() + ": cannot read it (permission denied)");
    } catch (IOException e) {
      throw new BadSetting(pem.named() + ": cannot read it (" + e.getMessage() + ")");
    }
  }
}
