// How an image or DICOM study becomes a model's input: as a ClinicalModel declares it
// (spec.model.preprocessing.image), as the operator tells the server (CLINOPS_PREPROCESSING), and as the
// server applies it once mean and std are filled in. One shape for both processes.

/** DICOM studies: the model's own window, the Modality and Body Part it takes, one frame or all. */
export interface DicomOptions {
  /** The model's own window (PS3.3 C.11.2.1.2), used instead of the file's. */
  window?: { center: number; width: number };
  /** Modalities (0008,0060) the model takes; others are refused. */
  modalities?: string[];
  /** Body parts (0018,0015) the model takes; others are refused. */
  bodyParts?: string[];
  /** A multi-frame study: its first frame, or every frame as a batch. */
  frames?: 'first' | 'all';
}

/** As declared: resize to width×height, 1 or 3 channels, normalize by mean and std (default 0 and 1 per channel). */
export interface ImagePreprocessingSpec {
  width: number;
  height: number;
  channels: 1 | 3;
  mean?: number[];
  std?: number[];
  dicom?: DicomOptions;
}

/** As the server applies it: mean and std given for every channel. */
export type ImagePreprocessing = ImagePreprocessingSpec & { mean: number[]; std: number[] };
