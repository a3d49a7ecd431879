package dev.siteward.gateway.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.siteward.gateway.models.ModelSpec;
import java.nio.file.Files;
import java.nio.file.Path;

/** The committed demo models (models/demo, made by make_models.py) and their numpy-computed vectors. */
final class DemoModels {

    static final Path DIR = locate();

    private DemoModels() {
    }

    private static Path locate() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("models/demo/vectors"))) {
                return p.resolve("models/demo");
            }
        }
        throw new IllegalStateException("models/demo not found above " + Path.of("").toAbsolutePath());
    }

    static LoadedModel load(String dir, String name, long version) throws Exception {
        ModelSpec spec = ModelSpec.parse(Files.readAllBytes(DIR.resolve(dir).resolve(ModelSpec.FILE_NAME)));
        return LoadedModel.of(InferencePipeline.of(name, version, spec),
                Files.readAllBytes(DIR.resolve(dir).resolve(spec.entry())));
    }

    static JsonNode vectors(String name) throws Exception {
        return new ObjectMapper().readTree(DIR.resolve("vectors").resolve(name + ".json").toFile());
    }

    static double[] row(JsonNode features, int i) {
        JsonNode r = features.get(i);
        double[] out = new double[r.size()];
        for (int j = 0; j < out.length; j++) {
            out[j] = r.get(j).asDouble();
        }
        return out;
    }
}
