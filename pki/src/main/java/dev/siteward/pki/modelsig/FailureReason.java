package dev.siteward.pki.modelsig;

/** Why a model signature or withdrawal was refused; each value has a stable machine-readable code. */
public enum FailureReason {
    /** The bundle is not valid JSON, not a Sigstore bundle v0.3, or its statement is not the expected format. */
    MALFORMED_BUNDLE("modelsig.malformed_bundle"),
    /** The signature does not verify with the signer's key. */
    BAD_SIGNATURE("modelsig.bad_signature"),
    /** The certificate chain does not lead to a trusted root, or the signing certificate may not sign. */
    UNTRUSTED_CHAIN("modelsig.untrusted_chain"),
    /** The key or signature algorithm is not supported (only ECDSA P-256/P-384/P-521 and Ed25519 are). */
    UNSUPPORTED_ALGORITHM("modelsig.unsupported_algorithm"),
    /** The files on disk (or in memory) differ from the signed manifest; see the per-file differences. */
    DIGEST_MISMATCH("modelsig.digest_mismatch"),
    /** A symbolic link, a special file, or a path escaping the model root was found. */
    PATH_REFUSED("modelsig.path_refused"),
    /** The model has no regular file to sign after exclusions. */
    EMPTY_MODEL("modelsig.empty_model"),
    /** The statement is signed correctly but is of another kind (a withdrawal where a model was expected, ...). */
    WRONG_STATEMENT_TYPE("modelsig.wrong_statement_type");

    private final String code;

    FailureReason(String code) {
        this.code = code;
    }

    /** Returns the stable code, such as {@code modelsig.bad_signature}. */
    public String code() {
        return code;
    }
}
