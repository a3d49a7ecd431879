package dev.siteward.gateway.inference;

/**
 * A reading the gateway refused, with a stable code (docs/mqtt.md, docs/inference.md) and a message for people.
 */
public final class ReadingError extends Exception {

    /** Payload is neither valid JSON nor valid CBOR. */
    public static final String NOT_JSON = "not_json";
    /** Features missing, not numbers, or of the wrong length. */
    public static final String BAD_SHAPE = "bad_shape";
    /** A feature is NaN or infinite. */
    public static final String NOT_FINITE = "not_finite";
    /** A raw feature lies outside the model's signed range. */
    public static final String OUT_OF_RANGE = "out_of_range";
    /** Payload over the size limit. */
    public static final String TOO_LARGE = "too_large";
    /** No model released for the device's class, or the named model is not one of them. */
    public static final String UNKNOWN_MODEL = "unknown_model";
    /** The model's queue was full: the reading was dropped. */
    public static final String SHED = "shed";
    /** The response topic lies outside the sender's own prefix. */
    public static final String RESPONSE_TOPIC_REFUSED = "response_topic_refused";
    /** The runtime failed on the batch (the model, not the reading). */
    public static final String INFERENCE_FAILED = "inference_failed";

    private final String code;

    public ReadingError(String code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    /** The stable code. */
    public String code() {
        return code;
    }
}
