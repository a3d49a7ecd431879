package dev.siteward.pki.ca;

import dev.siteward.pki.CryptoProviders;
import dev.siteward.pki.KeyMaterial;
import dev.siteward.pki.KeyType;
import dev.siteward.pki.PemCodec;
import dev.siteward.pki.PkiException;
import dev.siteward.pki.PkiException.Reason;
import dev.siteward.pki.SecureFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PKCS8Generator;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.operator.OutputEncryptor;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.pkcs.PKCSException;

/**
 * CA keys as PKCS#8 files encrypted with a passphrase (PBES2: PBKDF2-HMAC-SHA256, AES-256-CBC), mode 0600, one
 * file per alias ({@code <alias>-key.pem}); {@code openssl pkey} reads them.
 */
public final class FileCaKeyStore implements CaKeyStore {

    /** PBKDF2 iterations for key files: slow enough to resist guessing, ~0.1 s to open. */
    public static final int PBKDF2_ITERATIONS = 200_000;

    static {
        // BouncyCastle registered (last) supplies AES/CBC/PKCS7Padding; PBKDF2 still comes from the JDK's provider
        CryptoProviders.bouncyCastle();
    }

    private final Path dir;
    private final char[] passphrase;

    public FileCaKeyStore(Path dir, char[] passphrase) {
        this.dir = dir;
        this.passphrase = passphrase == null ? null : passphrase.clone();
    }

    private Path file(String alias) {
        return dir.resolve(alias + "-key.pem");
    }

    @Override
    public SigningKey generate(String alias, KeyType type) throws PkiException {
        try {
            KeyPairGenerator gen = KeyPairGenerator.getInstance("EC", CryptoProviders.bouncyCastle());
            gen.initialize(new ECGenParameterSpec(type.curve()));
            KeyPair pair = gen.generateKeyPair();
            return new SigningKey(pair.getPrivate(), pair.getPublic(), CryptoProviders.bouncyCastle(), type);
        } catch (GeneralSecurityException e) {
            throw new PkiException(Reason.INTERNAL, "cannot generate " + type.cliName() + " key", e);
        }
    }

    @Override
    public void store(String alias, SigningKey key, X509Certificate certificate) throws PkiException {
        try {
            SecureFiles.createSecret(file(alias), encrypt(key.privateKey()));
        } catch (IOException e) {
            throw new PkiException(Reason.STORAGE, "cannot write key file " + file(alias), e);
        }
    }

    private byte[] encrypt(PrivateKey key) throws PkiException {
        requirePassphrase();
        try {
            // PBKDF2 and AES through the JDK's provider: its HMAC-SHA256 uses the CPU's SHA instructions
            OutputEncryptor encryptor = new JceOpenSSLPKCS8EncryptorBuilder(PKCS8Generator.AES_256_CBC)
                    .setPRF(PKCS8Generator.PRF_HMACSHA256)
                    .setIterationCount(PBKDF2_ITERATIONS)
                    .setPassword(passphrase)
                    .build();
            var pem = new JcaPKCS8Generator(key, encryptor).generate();
            return PemCodec.encode(pem.getType(), pem.getContent()).getBytes(StandardCharsets.US_ASCII);
        } catch (Exception e) {
            throw new PkiException(Reason.INTERNAL, "cannot encrypt key", e);
        }
    }

    @Override
    public SigningKey load(String alias, X509Certificate certificate) throws PkiException {
        Path f = file(alias);
        if (!Files.exists(f)) {
            throw new PkiException(Reason.KEY_UNAVAILABLE, "the " + alias + " CA key is not in " + dir
                    + (alias.equals("root") ? " (it was exported for offline keeping)" : ""));
        }
        return loadFrom(f, certificate);
    }

    /** Loads an encrypted PKCS#8 key file from anywhere (e.g. a root key kept offline) for this certificate. */
    public SigningKey loadFrom(Path f, X509Certificate certificate) throws PkiException {
        if (!Files.isReadable(f)) {
            throw new PkiException(Reason.KEY_UNAVAILABLE, "key file not readable: " + f);
        }
        requirePassphrase();
        List<byte[]> blocks;
        try {
            blocks = PemCodec.decodeAll(Files.readString(f, StandardCharsets.US_ASCII), "ENCRYPTED PRIVATE KEY");
        } catch (IOException e) {
            throw new PkiException(Reason.STORAGE, "cannot read key file " + f, e);
        }
        if (blocks.size() != 1) {
            throw new PkiException(Reason.KEY_UNAVAILABLE, "key file " + f + " holds no encrypted PKCS#8 key");
        }
        PrivateKey privateKey;
        try {
            PrivateKeyInfo info = new PKCS8EncryptedPrivateKeyInfo(blocks.get(0)).decryptPrivateKeyInfo(
                    new JceOpenSSLPKCS8DecryptorProviderBuilder().build(passphrase));
            privateKey = new JcaPEMKeyConverter().setProvider(CryptoProviders.bouncyCastle()).getPrivateKey(info);
        } catch (PKCSException e) {
            for (Throwable c = e; c != null; c = c.getCause()) {
                if (c instanceof java.security.NoSuchAlgorithmException) {
                    throw new PkiException(Reason.INTERNAL, "cannot decrypt " + f.getFileName() + ": " + c.getMessage(),
                            e);
                }
            }
            throw new PkiException(Reason.PASSPHRASE_WRONG, "wrong CA passphrase: cannot decrypt " + f.getFileName(), e);
        } catch (Exception e) {
            throw new PkiException(Reason.STORAGE, "cannot decode key file " + f, e);
        }
        KeyType type = KeyType.ofFieldSize(((java.security.interfaces.ECKey) certificate.getPublicKey())
                .getParams().getCurve().getField().getFieldSize());
        try {
            if (!KeyMaterial.publicKeyOf(privateKey).equals(certificate.getPublicKey())
                    && !java.util.Arrays.equals(KeyMaterial.publicKeyOf(privateKey).getEncoded(),
                    certificate.getPublicKey().getEncoded())) {
                throw new PkiException(Reason.KEY_UNAVAILABLE, f.getFileName() + " is not the key of "
                        + certificate.getSubjectX500Principal().getName());
            }
        } catch (java.security.GeneralSecurityException e) {
            throw new PkiException(Reason.KEY_UNAVAILABLE, "cannot check " + f.getFileName(), e);
        }
        return new SigningKey(privateKey, certificate.getPublicKey(), CryptoProviders.bouncyCastle(), type);
    }

    private void requirePassphrase() throws PkiException {
        if (passphrase == null || passphrase.length == 0) {
            throw new PkiException(Reason.PASSPHRASE_MISSING,
                    "CA passphrase missing: set SITEWARD_CA_PASSPHRASE or use --passphrase-file");
        }
    }

    @Override
    public boolean contains(String alias) {
        return Files.exists(file(alias));
    }

    @Override
    public void exportAndRemove(String alias, Path out) throws PkiException {
        Path f = file(alias);
        try {
            byte[] content = Files.readAllBytes(f);
            SecureFiles.createSecret(out, content);
            Files.delete(f);
            SecureFiles.fsyncDirectory(dir);
            Arrays.fill(content, (byte) 0);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            throw new PkiException(Reason.NAME_INVALID, "refusing to overwrite existing file " + out);
        } catch (IOException e) {
            throw new PkiException(Reason.STORAGE, "cannot export the " + alias + " key to " + out + ": " + e.getMessage(),
                    e);
        }
    }

    @Override
    public String describe() {
        return "files (encrypted PKCS#8, PBKDF2-HMAC-SHA256 + AES-256-CBC)";
    }
}
