package dev.siteward.device.trust;

import java.security.cert.CertificateException;

/**
 * A server (or issued) certificate chain that does not lead to the pinned site root. Thrown from the trust managers
 * so that callers can tell "this is not our gateway" apart from network failures.
 */
public final class UntrustedChainException extends CertificateException {

    public UntrustedChainException(String message) {
        super(message);
    }

    public UntrustedChainException(String message, Throwable cause) {
        super(message, cause);
    }
}
