package dev.siteward.pki.modelsig;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;

/** The outcome of verifying a signed withdrawal: the withdrawal and its signer, or why it was refused. */
public final class WithdrawalResult {

    private final VerificationFailure failure;
    private final Withdrawal withdrawal;
    private final List<X509Certificate> signerChain;

    WithdrawalResult(VerificationFailure failure, Withdrawal withdrawal, List<X509Certificate> signerChain) {
        this.failure = failure;
        this.withdrawal = withdrawal;
        this.signerChain = signerChain == null ? List.of() : List.copyOf(signerChain);
    }

    /** Returns true when the signature and trust checked out. */
    public boolean verified() {
        return failure == null;
    }

    /** Returns why verification failed, or empty. */
    public Optional<VerificationFailure> failure() {
        return Optional.ofNullable(failure);
    }

    /** Returns the verified withdrawal, or throws the failure. */
    public Withdrawal orThrow() throws ModelSignatureException {
        if (failure != null) {
            throw new ModelSignatureException(failure);
        }
        return withdrawal;
    }

    /** Returns the bundle's certificate chain (leaf first) in certificate mode, else an empty list. */
    public List<X509Certificate> signerChain() {
        return signerChain;
    }

    @Override
    public String toString() {
        return failure == null ? "verified " + withdrawal : "verification failed: " + failure;
    }
}
