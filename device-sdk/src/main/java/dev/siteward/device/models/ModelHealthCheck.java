package dev.siteward.device.models;

/**
 * The application's check that a newly installed model works: load it and run it, e.g. build an ONNX Runtime session
 * from {@link VerifiedModel#file(String)} (the exact verified bytes) and run one inference on a known input. Throwing
 * anything means the model failed: the device goes back to its previous slot on its own and reports
 * {@code fallback}.
 */
@FunctionalInterface
public interface ModelHealthCheck {

    /** A check that accepts every model that verified. */
    ModelHealthCheck NONE = model -> { };

    void check(VerifiedModel model) throws Exception;
}
