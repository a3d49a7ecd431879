package dev.siteward.gateway.server;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A key manager holding one key and chain that can be replaced while the server runs: a renewed server certificate
 * is used from the next handshake on, with no restart.
 */
public final class ReloadableKeyManager extends X509ExtendedKeyManager {

    private static final String ALIAS = "siteward";

    private record Material(PrivateKey key, X509Certificate[] chain) {
    }

    private volatile Material material;

    public ReloadableKeyManager(PrivateKey key, X509Certificate[] chain) {
        this.material = new Material(jdkKey(key), chain.clone());
    }

    public void replace(PrivateKey key, X509Certificate[] chain) {
        this.material = new Material(jdkKey(key), chain.clone());
    }

    /** JSSE matches key algorithm names literally ("EC"); keys read by BouncyCastle say "ECDSA", so re-decode. */
    static PrivateKey jdkKey(PrivateKey key) {
        if (!"ECDSA".equals(key.getAlgorithm())) {
            return key;
        }
        try {
            return java.security.KeyFactory.getInstance("EC", "SunEC")
                    .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(key.getEncoded()));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot convert the server key", e);
        }
    }

    public X509Certificate[] chain() {
        return material.chain().clone();
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return new String[] {ALIAS};
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return ALIAS;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
        return ALIAS;
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return new String[] {ALIAS};
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return matches(keyType) ? ALIAS : null;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return matches(keyType) ? ALIAS : null;
    }

    private boolean matches(String keyType) {
        String alg = material.key().getAlgorithm();
        return keyType == null || keyType.equalsIgnoreCase(alg) || (keyType.startsWith("EC") && alg.equals("EC"));
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        return material.chain().clone();
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        return material.key();
    }
}
