import { IsBoolean, IsInt, IsNumber, Max, Min } from 'class-validator';

/**
 * One loan applicant, i.e. one row of a scorecard request, as `validate()` checks it.
 * Built by `preprocess()` from the `age`, `income`, `debt` and `employed` input tensors.
 */
export class ScorecardApplicantDto {
  /** Age in whole years. */
  @IsInt()
  @Min(18)
  @Max(120)
  age!: number;

  /** Yearly income, in currency units. */
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  income!: number;

  /** Outstanding debt, in the same currency units as `income`. */
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  debt!: number;

  /** Whether the applicant is currently employed. */
  @IsBoolean()
  employed!: boolean;

  /** Builds an applicant from plain values (no class-transformer needed). */
  static of(values: { age: number; income: number; debt: number; employed: boolean }): ScorecardApplicantDto {
    return Object.assign(new ScorecardApplicantDto(), values);
  }
}
