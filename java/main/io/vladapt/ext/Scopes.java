package io.vladapt.ext;

import java.util.function.Function;
import java.util.function.Supplier;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Runs a step in its own PointerScope so that its temporaries are freed at once, while the results it
 * returns move to the caller's scope (or, with none open, to the garbage collector). A scope's attach
 * takes a reference and detach drops one, so the new owner attaches before the old one lets go.
 */
public final class Scopes {
    private Scopes() {}

    public static <T> T keepOnly(Supplier<T> step, Function<T, Pointer[]> results) {
        PointerScope outer = PointerScope.getInnerScope();
        try (PointerScope inner = new PointerScope()) {
            T r = step.get();
            for (Pointer p : results.apply(r)) {
                if (p == null) continue;
                if (outer != null) outer.attach(p);
                else p.retainReference();
                inner.detach(p);
            }
            return r;
        }
    }

    public static Tensor keepOnly(Supplier<Tensor> step) {
        return keepOnly(step, t -> new Pointer[] {t});
    }
}
