package dev.siteward.gateway.models;

/**
 * A refused or failed model-repository operation, with a stable code and an HTTP status. Security refusals (a
 * signature that does not verify, an untrusted or wrong-team publisher, a withdrawn version) carry the
 * {@code modelsig.*} or {@code model.*} code of the check that failed and map to 422; the CLI exits 1 for them and 2
 * for bad input (400, 409).
 */
public final class ModelException extends Exception {

    /** What kind of failure, with its HTTP status. */
    public enum Kind {
        BAD_INPUT(400), REFUSED(422), NOT_FOUND(404), CONFLICT(409), TOO_LARGE(413), INTERNAL(500);

        private final int status;

        Kind(int status) {
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private final Kind kind;
    private final String code;

    public ModelException(Kind kind, String code, String message) {
        super(message);
        this.kind = kind;
        this.code = code;
    }

    public ModelException(Kind kind, String code, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.code = code;
    }

    static ModelException badInput(String message) {
        return new ModelException(Kind.BAD_INPUT, "model.invalid", message);
    }

    static ModelException notFound(String message) {
        return new ModelException(Kind.NOT_FOUND, "model.not_found", message);
    }

    static ModelException refused(String code, String message) {
        return new ModelException(Kind.REFUSED, code, message);
    }

    public Kind kind() {
        return kind;
    }

    public String code() {
        return code;
    }
}
