DROP TABLE reimbursement_actual_costs;
DROP TABLE reimbursement_claim_lines;
DROP TABLE reimbursement_claims;
DROP FUNCTION reimbursement_line_of_draft();
DROP FUNCTION reimbursement_line_audited();
DROP FUNCTION reimbursement_claim_frozen();
DROP FUNCTION reimbursement_claim_supplements_its_quarter();
