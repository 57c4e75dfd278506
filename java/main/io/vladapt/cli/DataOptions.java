package io.vladapt.cli;

import io.vladapt.data.SyntheticCaptions;
import io.vladapt.data.VqaDataset;
import io.vladapt.vpg.VlDataset;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where captions and VQA files are: one --data folder in the layout the demo writes, or each file. */
final class DataOptions {
    @Option(names = "--data", description = "a folder with dataset_coco.json, images/{train2014,val2014}/ and the VQA v2 files of both subtypes")
    Path data;

    @Option(names = "--coco-json", description = "Karpathy's dataset_coco.json")
    Path cocoJson;

    @Option(names = "--image-root", description = "folder holding dataset_coco.json's filepath folders (train2014/, val2014/)")
    Path imageRoot;

    @Option(names = "--train-split", defaultValue = "train", description = "caption training split (default: ${DEFAULT-VALUE})")
    String trainSplit;

    @Option(names = "--restval-as-train", description = "train on restval too (the usual 113k-image COCO training set)")
    boolean restval;

    @Option(names = "--eval-split", defaultValue = "val", description = "caption evaluation split (default: ${DEFAULT-VALUE})")
    String evalSplit;

    @Option(names = "--train-vqa", description = "also train on the VQA training questions (default: captions only, VQA zero-shot, as the paper)")
    boolean trainVqa;

    @Option(names = "--vqa-train-questions")
    Path vqaTrainQ;

    @Option(names = "--vqa-train-annotations")
    Path vqaTrainA;

    @Option(names = "--vqa-train-images")
    Path vqaTrainI;

    @Option(names = "--vqa-eval-questions")
    Path vqaEvalQ;

    @Option(names = "--vqa-eval-annotations")
    Path vqaEvalA;

    @Option(names = "--vqa-eval-images")
    Path vqaEvalI;

    VlDataset.Files files() {
        if (data != null) {
            String tr = SyntheticCaptions.TRAIN, va = SyntheticCaptions.VAL;
            return new VlDataset.Files(or(cocoJson, data.resolve("dataset_coco.json")), or(imageRoot, SyntheticCaptions.imageRoot(data)), trainSplit,
                    restval, evalSplit, trainVqa ? or(vqaTrainQ, data.resolve(VqaDataset.questionsFileName(tr))) : null,
                    trainVqa ? or(vqaTrainA, data.resolve(VqaDataset.annotationsFileName(tr))) : null,
                    trainVqa ? or(vqaTrainI, SyntheticCaptions.imageDir(data, tr)) : null,
                    or(vqaEvalQ, data.resolve(VqaDataset.questionsFileName(va))), or(vqaEvalA, data.resolve(VqaDataset.annotationsFileName(va))),
                    or(vqaEvalI, SyntheticCaptions.imageDir(data, va)));
        }
        if (cocoJson == null || imageRoot == null) throw new IllegalArgumentException("give --data DIR, or --coco-json and --image-root");
        return new VlDataset.Files(cocoJson, imageRoot, trainSplit, restval, evalSplit, trainVqa ? vqaTrainQ : null, vqaTrainA, vqaTrainI, vqaEvalQ,
                vqaEvalA, vqaEvalI);
    }

    private static Path or(Path a, Path b) {
        return a != null ? a : b;
    }
}
