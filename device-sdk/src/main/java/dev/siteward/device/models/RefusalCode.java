package dev.siteward.device.models;

/**
 * The stable codes of the security failures a device refuses a model release with (docs/model-releases.md, "SDK
 * codes"). Each code belongs to one exception type; {@link #refuse} makes the right one. A refusal is reported to
 * the gateway and never retried with the same bytes.
 */
public enum RefusalCode {
    MODEL_BAD_SIGNATURE("model.bad_signature"),
    MODEL_UNTRUSTED_PUBLISHER("model.untrusted_publisher"),
    MODEL_DIGEST_MISMATCH("model.digest_mismatch"),
    MODEL_FILES_MISMATCH("model.files_mismatch"),
    MODEL_PATH_REFUSED("model.path_refused"),
    METADATA_BAD_SIGNATURE("metadata.bad_signature"),
    METADATA_REPLAYED("metadata.replayed"),
    METADATA_EXPIRED("metadata.expired"),
    METADATA_WRONG_DEVICE("metadata.wrong_device"),
    METADATA_MIX_AND_MATCH("metadata.mix_and_match"),
    MODEL_ROLLBACK_REFUSED("model.rollback_refused"),
    MODEL_WITHDRAWN("model.withdrawn");

    private final String code;

    RefusalCode(String code) {
        this.code = code;
    }

    /** The code as it appears on the wire and in the CLI ({@code model.digest_mismatch}, ...). */
    public String code() {
        return code;
    }

    /** Returns the exception type that carries this code, with {@code message}. */
    public ModelSecurityException refuse(String message) {
        return switch (this) {
            case METADATA_BAD_SIGNATURE, METADATA_WRONG_DEVICE, METADATA_MIX_AND_MATCH ->
                    new MetadataRefusedException(this, message);
            case METADATA_REPLAYED, METADATA_EXPIRED -> new StaleMetadataException(this, message);
            case MODEL_BAD_SIGNATURE, MODEL_UNTRUSTED_PUBLISHER -> new PublisherRefusedException(this, message);
            case MODEL_DIGEST_MISMATCH, MODEL_FILES_MISMATCH, MODEL_PATH_REFUSED ->
                    new ContentRefusedException(this, message);
            case MODEL_ROLLBACK_REFUSED, MODEL_WITHDRAWN -> new VersionRefusedException(this, message);
        };
    }

    /** The code for its wire form, or null when unknown. */
    public static RefusalCode ofCode(String code) {
        for (RefusalCode c : values()) {
            if (c.code.equals(code)) {
                return c;
            }
        }
        return null;
    }
}
