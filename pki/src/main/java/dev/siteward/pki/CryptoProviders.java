package dev.siteward.pki;

import java.security.Provider;
import java.security.Security;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * The JCA providers Siteward uses: BouncyCastle for ECDSA and Ed25519 (several times faster than SunEC on Java 17),
 * the JDK for SHA-256 (it uses the CPU's SHA instructions).
 */
public final class CryptoProviders {

    private static final Provider BC;

    static {
        Provider registered = Security.getProvider(BouncyCastleProvider.PROVIDER_NAME);
        if (registered == null) {
            registered = new BouncyCastleProvider();
            // appended last: it never displaces the JDK's defaults for callers that name no provider
            Security.addProvider(registered);
        }
        BC = registered;
    }

    private CryptoProviders() {
    }

    /** The BouncyCastle provider instance, registered once at the end of the provider list. */
    public static Provider bouncyCastle() {
        return BC;
    }
}
