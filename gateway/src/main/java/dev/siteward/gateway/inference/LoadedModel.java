package dev.siteward.gateway.inference;

import ai.onnxruntime.OrtException;
import dev.siteward.gateway.models.ModelRepository;

/** A released model version ready to serve: its pipeline and its runtime session from the verified bytes. */
public record LoadedModel(InferencePipeline pipeline, OnnxModel onnx) implements AutoCloseable {

    /** Builds the pipeline and the session from a verified model (the exact bytes whose signature was checked). */
    public static LoadedModel of(ModelRepository.VerifiedModel verified) throws ReadingError, OrtException {
        InferencePipeline pipeline = InferencePipeline.of(verified);
        return of(pipeline, verified.entry());
    }

    /** Builds the session for a pipeline from the entry's verified bytes. */
    public static LoadedModel of(InferencePipeline pipeline, byte[] entry) throws OrtException {
        return new LoadedModel(pipeline, new OnnxModel(entry, pipeline.input(), pipeline.features(),
                pipeline.outputNames()));
    }

    @Override
    public void close() {
        onnx.close();
    }
}
