package dev.siteward.pki.ca;

import dev.siteward.pki.IssueRequest;
import dev.siteward.pki.IssuedCertificate;
import dev.siteward.pki.KeyType;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.PkiException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.time.Clock;
import java.util.List;

/**
 * The PKCS#11 half of {@link Pkcs11CaTest}, run in a child JVM because SunPKCS11 reads {@code SOFTHSM2_CONF} from
 * the process environment, which a running JVM cannot change. Prints {@code KEY value} lines on stdout; exits 0
 * when the step succeeded, 1 otherwise (the cause on stderr).
 *
 * <pre>
 * init    DATA_DIR PKCS11_CONFIG PIN CSR_PEM OUT_LEAF_PEM   creates the CA in the token and issues one device cert
 * reopen  DATA_DIR PIN CSR_PEM OUT_LEAF_PEM                 reopens it (keys from the token) and issues again
 * login   DATA_DIR PIN                                      unlocks the issuing key; prints REASON on failure
 * </pre>
 */
public final class SoftHsmCaMain {

    private SoftHsmCaMain() {
    }

    public static void main(String[] args) throws Exception {
        Clock clock = Clock.systemUTC(); // openssl verify checks validity against the real time
        switch (args[0]) {
            case "init" -> {
                Path dataDir = Path.of(args[1]);
                CaInitOptions d = CaInitOptions.defaults(CaKind.SITE);
                CaInitOptions options = new CaInitOptions(CaKind.SITE, d.trustDomain(), KeyType.P256,
                        Path.of(args[2]), null, null, d.rootTtl(), d.issuingTtl());
                try (SiteCa ca = SiteCa.initialize(dataDir, options, new CaSecrets(null, args[3].toCharArray()),
                        clock)) {
                    issue(ca, Path.of(args[4]), Path.of(args[5]), "hsm-cam-1");
                    Files.writeString(dataDir.resolve("root.pem"), PemCodec.certificates(List.of(ca.root())));
                    Files.writeString(dataDir.resolve("issuing.pem"),
                            PemCodec.certificates(List.of(ca.issuingCertificate())));
                    System.out.println("LABELS " + ca.config().pkcs11Labels());
                    System.out.println("STORAGE " + ca.config().keyStorage());
                    System.out.println("KEY_FILES " + (Files.exists(ca.directory().resolve("root-key.pem"))
                            || Files.exists(ca.directory().resolve("issuing-key.pem"))));
                    reportKey(ca, args[3].toCharArray());
                }
            }
            case "reopen" -> {
                try (SiteCa ca = SiteCa.open(Path.of(args[1]), new CaSecrets(null, args[2].toCharArray()), clock)) {
                    issue(ca, Path.of(args[3]), Path.of(args[4]), "hsm-cam-2");
                    reportKey(ca, args[2].toCharArray());
                }
            }
            case "login" -> {
                try (SiteCa ca = SiteCa.open(Path.of(args[1]), new CaSecrets(null, args[2].toCharArray()), clock)) {
                    ca.unlock();
                    System.out.println("REASON none");
                } catch (PkiException e) {
                    System.out.println("REASON " + e.code());
                    System.out.println("MESSAGE " + e.getMessage());
                }
            }
            case "relogin" -> {
                // the right PIN first, then a wrong one in the same JVM: SunPKCS11 stays logged in, Siteward refuses
                try (SiteCa ca = SiteCa.open(Path.of(args[1]), new CaSecrets(null, args[2].toCharArray()), clock)) {
                    ca.unlock();
                }
                try (SiteCa ca = SiteCa.open(Path.of(args[1]), new CaSecrets(null, args[3].toCharArray()), clock)) {
                    ca.unlock();
                    System.out.println("REASON none");
                } catch (PkiException e) {
                    System.out.println("REASON " + e.code());
                }
            }
            case "rotate-root" -> {
                // a second CA in the same token (its own labels): init, one leaf, root rollover, one leaf
                Path dataDir = Path.of(args[1]);
                CaInitOptions d = CaInitOptions.defaults(CaKind.SITE);
                CaInitOptions options = new CaInitOptions(CaKind.SITE, d.trustDomain(), KeyType.P256,
                        Path.of(args[2]), null, null, d.rootTtl(), d.issuingTtl());
                try (SiteCa ca = SiteCa.initialize(dataDir, options, new CaSecrets(null, args[3].toCharArray()),
                        clock)) {
                    Files.writeString(dataDir.resolve("old-root.pem"), PemCodec.certificates(List.of(ca.root())));
                    Files.writeString(dataDir.resolve("old-issuing.pem"),
                            PemCodec.certificates(List.of(ca.issuingCertificate())));
                    issue(ca, Path.of(args[4]), dataDir.resolve("before.pem"), "hsm-before");
                    System.out.println("ROOT_GENERATION " + ca.rotateRoot(null, null));
                    Files.writeString(dataDir.resolve("new-root.pem"), PemCodec.certificates(List.of(ca.root())));
                    Files.writeString(dataDir.resolve("cross.pem"),
                            PemCodec.certificates(List.of(ca.rootGenerations().get(0).crossCertificate())));
                    Files.writeString(dataDir.resolve("issuing.pem"),
                            PemCodec.certificates(List.of(ca.issuingCertificate())));
                    issue(ca, Path.of(args[4]), dataDir.resolve("after.pem"), "hsm-after");
                    System.out.println("KEY_FILES " + (Files.exists(ca.directory().resolve("root-2-key.pem"))));
                }
            }
            default -> throw new IllegalArgumentException("unknown step " + args[0]);
        }
        System.out.flush();
    }

    private static void issue(SiteCa ca, Path csrPem, Path out, String deviceId) throws Exception {
        byte[] csr = PemCodec.decodeAll(Files.readString(csrPem), "CERTIFICATE REQUEST").get(0);
        IssuedCertificate issued = ca.issue(IssueRequest.device(csr, deviceId));
        Files.writeString(out, PemCodec.certificates(issued.fullChain()));
        System.out.println("SERIAL " + issued.serialHex());
    }

    /** Loads the issuing key handle from the token and reports whether its private value can be read. */
    private static void reportKey(SiteCa ca, char[] pin) throws PkiException {
        Pkcs11CaKeyStore store = new Pkcs11CaKeyStore(Path.of(ca.config().pkcs11Config()), pin,
                ca.config().pkcs11Labels());
        for (String alias : List.of(SiteCa.ROOT, SiteCa.ISSUING)) {
            SigningKey key = store.load(alias, alias.equals(SiteCa.ROOT) ? ca.root() : ca.issuingCertificate());
            PrivateKey handle = key.privateKey();
            System.out.println("ENCODED_" + alias.toUpperCase() + " " + (handle.getEncoded() != null));
            System.out.println("PROVIDER_" + alias.toUpperCase() + " " + key.provider().getName());
        }
    }
}
