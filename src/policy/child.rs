//! Access to a child's data follows profession *and* relation: the assigned social secretary,
//! staff of the facility where the child lives now, the manager of the responsible unit, or a
//! time-limited emergency access. Without a relation the child does not exist for the caller
//! (404); with one, the profession decides what she may do (else 403) and which view she gets.

use uuid::Uuid;

use super::{Profession, Scope};
use crate::auth::actor::{Actor, Principal};
use crate::domain::age_out::GoalResponsible;

/// What the caller is to this child.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relations {
    pub assigned_secretary: bool,
    pub facility_staff: bool,
    pub emergency_access: bool,
}

/// The facts about a child that access depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildFacts {
    pub id: Uuid,
    pub responsible_unit_id: Uuid,
    pub protected_identity: bool,
    pub relations: Relations,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildAction {
    Read,
    /// Read the child's placements: where she lives and has lived.
    ReadPlacements,
    Update,
    AssignSecretaries,
    ManagePlacements,
    RecordReview,
    /// Decide the child's protected identity (lower, lift or raise it): the unit manager's.
    DecideProtection,
    /// Read the child's contact schedules and visits (notes only as `visit_notes` allows).
    ReadContacts,
    /// Set up or change the child's contact schedules: the case's secretary or manager.
    ManageSchedules,
    /// Record a contact with the child: the case's people and the staff of her home.
    RecordVisit,
    /// Revise the child's date of birth (an age re-assessment): the case's secretary or manager.
    ReassessAge,
    /// Read the child's age-out plan: her secretaries, the unit manager, the staff of her home.
    ReadPlan,
    /// Open the age-out plan and change it (goals, education, reviews): her secretaries only.
    ManagePlan,
    /// Add a progress note to a goal: her secretaries, and the staff of her home for the goals
    /// the home's staff are responsible for ([`may_note_progress`]).
    AddProgressNote,
    /// Export everything held about the child for her own access request (GDPR art. 15,
    /// registerutdrag): the registrar's work of system administrators and administrators,
    /// whatever the child's relations and protection (see [`decide`]); nobody else, no system.
    ExportRecord,
}

impl ChildAction {
    /// Whether the action changes something: the child's row is then held until commit.
    pub fn writes(self) -> bool {
        !matches!(
            self,
            ChildAction::Read
                | ChildAction::ReadPlacements
                | ChildAction::ReadContacts
                | ChildAction::ReadPlan
                | ChildAction::ExportRecord
        )
    }

    /// The scope that lets another system do this; `None` when no system may.
    fn scope(self) -> Option<Scope> {
        match self {
            ChildAction::Read => Some(Scope::ChildrenRead),
            ChildAction::ReadPlacements => Some(Scope::PlacementsRead),
            ChildAction::ReadContacts => Some(Scope::VisitsRead),
            // Place, move, extend, end and cancel; reviews are a person's decisions.
            ChildAction::ManagePlacements => Some(Scope::PlacementsWrite),
            // For a named person who may record it herself (`access::child::person_may`).
            ChildAction::RecordVisit => Some(Scope::VisitsWrite),
            _ => None,
        }
    }
}

/// Which view of the child the caller gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The assigned secretary: everything.
    Case,
    /// The unit manager or an emergency access: everything but, for a protected identity, the
    /// name, address and facility.
    Management,
    /// Staff of the facility: what daily care needs, no identity numbers or asylum case.
    Care,
    /// Another system with `children:read`: administrative facts, no names.
    System,
    /// The registrar answering the child's own access request: everything held about her, for
    /// her, protected fields included.
    DataSubject,
}

impl Audience {
    /// Protected identity hides name, address and facility from everyone not directly involved.
    pub fn sees_protected_fields(self) -> bool {
        matches!(
            self,
            Audience::Case | Audience::Care | Audience::DataSubject
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow(Audience),
    /// Known to the caller, but her profession may not do this: 403.
    Forbidden,
    /// Not hers to see: 404, indistinguishable from a child that does not exist.
    Hidden,
}

pub fn is_unit_manager_of(actor: &Actor, unit_id: Uuid) -> bool {
    matches!(
        actor.principal,
        Principal::User { profession: Profession::UnitManager, unit_id: Some(own), .. } if own == unit_id
    )
}

/// Refused whatever the child: professions without case work, and systems without the scope
/// for `action`. Such a caller gets 403 for every id, whether a child has it or not, so that
/// the answer never tells her which children exist.
pub fn refused_whatever_the_child(actor: &Actor, action: ChildAction) -> bool {
    if action == ChildAction::ExportRecord {
        return !answers_access_requests(actor);
    }
    match &actor.principal {
        Principal::Service { scopes, .. } => !action.scope().is_some_and(|s| scopes.contains(&s)),
        Principal::User { profession, .. } => matches!(
            profession,
            Profession::Administrator | Profession::Auditor | Profession::SystemAdmin
        ),
    }
}

/// Who answers a child's access request (GDPR art. 15): system administrators and
/// administrators, people and never systems. They do no case work and have no relation to any
/// child; the export is the registrar's duty to the child, not a view of the case.
pub fn answers_access_requests(actor: &Actor) -> bool {
    matches!(
        actor.profession(),
        Some(Profession::SystemAdmin | Profession::Administrator)
    )
}

pub fn decide(actor: &Actor, child: &ChildFacts, action: ChildAction) -> Decision {
    if refused_whatever_the_child(actor, action) {
        return Decision::Forbidden;
    }
    if action == ChildAction::ExportRecord {
        // Every child, a protected identity too: the right of access is hers as much as any
        // child's, and an export that left out her name or home would not answer it. The
        // export's event carries her protection, so the auditor's review of protected-identity
        // accesses lists every such export.
        return Decision::Allow(Audience::DataSubject);
    }
    let relations = child.relations;
    let writes = action.writes();
    match &actor.principal {
        Principal::Service { .. } => {
            if child.protected_identity || !actor.principal.reaches_unit(child.responsible_unit_id)
            {
                Decision::Hidden
            } else {
                Decision::Allow(Audience::System)
            }
        }
        Principal::User { profession, .. } => match profession {
            // The unit manager decides who carries the case, not the secretaries themselves.
            Profession::SocialSecretary if relations.assigned_secretary => {
                if matches!(
                    action,
                    ChildAction::AssignSecretaries | ChildAction::DecideProtection
                ) {
                    Decision::Forbidden
                } else {
                    Decision::Allow(Audience::Case)
                }
            }
            Profession::UnitManager if is_unit_manager_of(actor, child.responsible_unit_id) => {
                // The age-out plan is the secretary's work with the youth; the manager reads it.
                if matches!(
                    action,
                    ChildAction::ManagePlan | ChildAction::AddProgressNote
                ) {
                    Decision::Forbidden
                } else {
                    Decision::Allow(Audience::Management)
                }
            }
            Profession::SocialSecretary | Profession::UnitManager if relations.emergency_access => {
                if writes {
                    Decision::Forbidden
                } else {
                    Decision::Allow(Audience::Management)
                }
            }
            Profession::HvbStaff | Profession::HousingStaff if relations.facility_staff => {
                // The home's staff record their own contacts with the child and note progress on
                // the plan's goals that are theirs, and change nothing else.
                if writes
                    && !matches!(
                        action,
                        ChildAction::RecordVisit | ChildAction::AddProgressNote
                    )
                {
                    Decision::Forbidden
                } else {
                    Decision::Allow(Audience::Care)
                }
            }
            Profession::SocialSecretary
            | Profession::UnitManager
            | Profession::HvbStaff
            | Profession::HousingStaff => Decision::Hidden,
            // Professions without case work see no child, whichever it is.
            Profession::Administrator | Profession::Auditor | Profession::SystemAdmin => {
                Decision::Forbidden
            }
        },
    }
}

/// Which children a list shows: the caller's reach, never more. Emergency access opens one
/// child by id, never a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListScope {
    /// The children this secretary is assigned to.
    Caseload(Uuid),
    /// The children this unit is responsible for.
    Unit(Uuid),
    /// The children living today where this person works.
    LivingWhereSheWorks(Uuid),
    /// Every child without a protected identity (systems with `children:read`), of these units
    /// only when the system is granted some.
    Unprotected(Option<Vec<Uuid>>),
}

/// The children `actor` may list and the view she gets of them; `None` when she may list none.
pub fn list_scope(actor: &Actor) -> Option<(ListScope, Audience)> {
    match &actor.principal {
        Principal::User {
            id,
            profession: Profession::SocialSecretary,
            ..
        } => Some((ListScope::Caseload(*id), Audience::Case)),
        Principal::User {
            profession: Profession::UnitManager,
            unit_id: Some(unit),
            ..
        } => Some((ListScope::Unit(*unit), Audience::Management)),
        Principal::User {
            id,
            profession: Profession::HvbStaff | Profession::HousingStaff,
            ..
        } => Some((ListScope::LivingWhereSheWorks(*id), Audience::Care)),
        Principal::Service { scopes, units, .. } if scopes.contains(&Scope::ChildrenRead) => {
            Some((ListScope::Unprotected(units.clone()), Audience::System))
        }
        _ => None,
    }
}

/// The view of a child she has just registered: the secretary carries the case, a unit
/// manager manages it.
pub fn registrar_audience(actor: &Actor) -> Audience {
    match actor.profession() {
        Some(Profession::SocialSecretary) => Audience::Case,
        _ => Audience::Management,
    }
}

/// Whether a visit's notes (social documentation) are shown: to the child's secretaries, and
/// to anyone else only for the visits she made herself. Never to systems.
pub fn sees_visit_notes(actor: &Actor, audience: Audience, performed_by: uuid::Uuid) -> bool {
    match actor.user_id() {
        Some(user) if user == performed_by => true,
        Some(_) => audience == Audience::Case,
        None => false,
    }
}

/// Whether the caller, who may add progress notes to the child's plan (`audience`), may add one
/// to a goal with this `responsible`: the case's people to any, the home's staff only to the
/// goals the home's staff see to.
pub fn may_note_progress(audience: Audience, responsible: GoalResponsible) -> bool {
    match audience {
        Audience::Case => true,
        Audience::Care => responsible == GoalResponsible::HomeStaff,
        Audience::Management | Audience::System | Audience::DataSubject => false,
    }
}

/// Who may ask for emergency access at all.
pub fn may_request_emergency_access(actor: &Actor) -> bool {
    matches!(
        actor.profession(),
        Some(Profession::SocialSecretary | Profession::UnitManager)
    )
}

/// Who may register a child, and in which unit.
pub fn may_register_child_in(actor: &Actor, unit_id: Uuid) -> bool {
    matches!(
        actor.principal,
        Principal::User {
            profession: Profession::SocialSecretary | Profession::UnitManager,
            unit_id: Some(own),
            ..
        } if own == unit_id
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::actor::{RequestOrigin, SessionStage};

    fn user(profession: Profession, unit: Uuid) -> Actor {
        Actor {
            principal: Principal::User {
                id: Uuid::now_v7(),
                profession,
                unit_id: Some(unit),
            },
            session_id: Uuid::now_v7(),
            stage: SessionStage::Full,
            origin: RequestOrigin::default(),
        }
    }

    fn child(unit: Uuid, relations: Relations, protected_identity: bool) -> ChildFacts {
        ChildFacts {
            id: Uuid::now_v7(),
            responsible_unit_id: unit,
            protected_identity,
            relations,
        }
    }

    #[test]
    fn without_a_relation_a_child_is_hidden_from_case_workers() {
        let unit = Uuid::now_v7();
        let stranger = child(unit, Relations::default(), false);
        for profession in [
            Profession::SocialSecretary,
            Profession::HvbStaff,
            Profession::HousingStaff,
        ] {
            assert_eq!(
                decide(&user(profession, unit), &stranger, ChildAction::Read),
                Decision::Hidden
            );
        }
        let other_unit = Uuid::now_v7();
        assert_eq!(
            decide(
                &user(Profession::UnitManager, other_unit),
                &stranger,
                ChildAction::Read
            ),
            Decision::Hidden
        );
        assert_eq!(
            decide(
                &user(Profession::UnitManager, unit),
                &stranger,
                ChildAction::Read
            ),
            Decision::Allow(Audience::Management)
        );
    }

    #[test]
    fn staff_read_but_never_write_and_emergency_access_only_reads() {
        let unit = Uuid::now_v7();
        let placed_here = child(
            unit,
            Relations {
                facility_staff: true,
                ..Relations::default()
            },
            false,
        );
        let staff = user(Profession::HvbStaff, unit);
        assert_eq!(
            decide(&staff, &placed_here, ChildAction::Read),
            Decision::Allow(Audience::Care)
        );
        assert_eq!(
            decide(&staff, &placed_here, ChildAction::Update),
            Decision::Forbidden
        );
        let opened = child(
            unit,
            Relations {
                emergency_access: true,
                ..Relations::default()
            },
            false,
        );
        let secretary = user(Profession::SocialSecretary, unit);
        assert_eq!(
            decide(&secretary, &opened, ChildAction::Read),
            Decision::Allow(Audience::Management)
        );
        assert_eq!(
            decide(&secretary, &opened, ChildAction::ManagePlacements),
            Decision::Forbidden
        );
    }

    #[test]
    fn professions_without_case_work_are_refused_whatever_the_child() {
        let unit = Uuid::now_v7();
        let any = child(
            unit,
            Relations {
                assigned_secretary: true,
                facility_staff: true,
                emergency_access: true,
            },
            false,
        );
        for profession in [
            Profession::Administrator,
            Profession::Auditor,
            Profession::SystemAdmin,
        ] {
            assert_eq!(
                decide(&user(profession, unit), &any, ChildAction::Read),
                Decision::Forbidden
            );
            assert!(refused_whatever_the_child(
                &user(profession, unit),
                ChildAction::Read
            ));
        }
    }

    #[test]
    fn the_unit_manager_assigns_secretaries_not_the_secretary_herself() {
        let unit = Uuid::now_v7();
        let own = child(
            unit,
            Relations {
                assigned_secretary: true,
                ..Relations::default()
            },
            false,
        );
        let secretary = user(Profession::SocialSecretary, unit);
        assert_eq!(
            decide(&secretary, &own, ChildAction::AssignSecretaries),
            Decision::Forbidden
        );
        assert_eq!(
            decide(&secretary, &own, ChildAction::Update),
            Decision::Allow(Audience::Case)
        );
        assert_eq!(
            decide(
                &user(Profession::UnitManager, unit),
                &own,
                ChildAction::AssignSecretaries
            ),
            Decision::Allow(Audience::Management)
        );
    }

    #[test]
    fn the_secretary_writes_the_plan_the_manager_reads_it_and_staff_note_their_goals() {
        let unit = Uuid::now_v7();
        let related = |relations| child(unit, relations, false);
        let own = related(Relations {
            assigned_secretary: true,
            ..Relations::default()
        });
        let placed_here = related(Relations {
            facility_staff: true,
            ..Relations::default()
        });
        let secretary = user(Profession::SocialSecretary, unit);
        let manager = user(Profession::UnitManager, unit);
        let staff = user(Profession::HousingStaff, unit);
        for action in [
            ChildAction::ReadPlan,
            ChildAction::ManagePlan,
            ChildAction::AddProgressNote,
        ] {
            assert_eq!(
                decide(&secretary, &own, action),
                Decision::Allow(Audience::Case)
            );
        }
        assert_eq!(
            decide(&manager, &own, ChildAction::ReadPlan),
            Decision::Allow(Audience::Management)
        );
        assert_eq!(
            decide(&manager, &own, ChildAction::ManagePlan),
            Decision::Forbidden
        );
        assert_eq!(
            decide(&manager, &own, ChildAction::AddProgressNote),
            Decision::Forbidden
        );
        assert_eq!(
            decide(&staff, &placed_here, ChildAction::AddProgressNote),
            Decision::Allow(Audience::Care)
        );
        assert_eq!(
            decide(&staff, &placed_here, ChildAction::ManagePlan),
            Decision::Forbidden
        );
        assert_eq!(
            decide(&staff, &own, ChildAction::ReadPlan),
            Decision::Hidden
        );
        assert!(may_note_progress(
            Audience::Care,
            GoalResponsible::HomeStaff
        ));
        assert!(!may_note_progress(Audience::Care, GoalResponsible::Youth));
        assert!(may_note_progress(Audience::Case, GoalResponsible::Other));
    }

    #[test]
    fn only_system_admins_and_administrators_export_a_child_and_a_protected_one_too() {
        let unit = Uuid::now_v7();
        let every_relation = Relations {
            assigned_secretary: true,
            facility_staff: true,
            emergency_access: true,
        };
        for protected in [false, true] {
            let plain = child(unit, Relations::default(), protected);
            let related = child(unit, every_relation, protected);
            for profession in [Profession::SystemAdmin, Profession::Administrator] {
                let registrar = user(profession, unit);
                assert!(!refused_whatever_the_child(
                    &registrar,
                    ChildAction::ExportRecord
                ));
                assert_eq!(
                    decide(&registrar, &plain, ChildAction::ExportRecord),
                    Decision::Allow(Audience::DataSubject)
                );
            }
            for profession in [
                Profession::SocialSecretary,
                Profession::UnitManager,
                Profession::HvbStaff,
                Profession::HousingStaff,
                Profession::Auditor,
            ] {
                let caller = user(profession, unit);
                // Refused whatever the child, so an unknown id gets the same 403.
                assert!(refused_whatever_the_child(
                    &caller,
                    ChildAction::ExportRecord
                ));
                assert_eq!(
                    decide(&caller, &related, ChildAction::ExportRecord),
                    Decision::Forbidden
                );
            }
            let system = Actor {
                principal: Principal::Service {
                    id: Uuid::now_v7(),
                    scopes: Scope::ALL.to_vec(),
                    units: None,
                },
                session_id: Uuid::now_v7(),
                stage: SessionStage::Full,
                origin: RequestOrigin::default(),
            };
            assert!(refused_whatever_the_child(
                &system,
                ChildAction::ExportRecord
            ));
            assert_eq!(
                decide(&system, &plain, ChildAction::ExportRecord),
                Decision::Forbidden
            );
        }
        // The export opens nothing else to them.
        let registrar = user(Profession::Administrator, unit);
        let plain = child(unit, Relations::default(), false);
        assert_eq!(
            decide(&registrar, &plain, ChildAction::Read),
            Decision::Forbidden
        );
        assert!(Audience::DataSubject.sees_protected_fields());
    }

    #[test]
    fn a_system_reads_children_with_children_read_and_places_them_with_placements_write() {
        let system = |scopes| Actor {
            principal: Principal::Service {
                id: Uuid::now_v7(),
                scopes,
                units: None,
            },
            session_id: Uuid::now_v7(),
            stage: SessionStage::Full,
            origin: RequestOrigin::default(),
        };
        let unit = Uuid::now_v7();
        let plain = child(unit, Relations::default(), false);
        let protected = child(unit, Relations::default(), true);
        let children = system(vec![Scope::ChildrenRead]);
        let placements = system(vec![Scope::PlacementsRead]);
        assert_eq!(
            decide(&children, &plain, ChildAction::Read),
            Decision::Allow(Audience::System)
        );
        assert_eq!(
            decide(&children, &plain, ChildAction::ReadPlacements),
            Decision::Forbidden
        );
        assert_eq!(
            decide(&placements, &plain, ChildAction::ReadPlacements),
            Decision::Allow(Audience::System)
        );
        assert_eq!(
            decide(&placements, &plain, ChildAction::Read),
            Decision::Forbidden
        );
        assert_eq!(
            decide(&placements, &protected, ChildAction::ReadPlacements),
            Decision::Hidden
        );
        let writer = system(vec![Scope::PlacementsWrite]);
        assert_eq!(
            decide(&writer, &plain, ChildAction::ManagePlacements),
            Decision::Allow(Audience::System)
        );
        assert_eq!(
            decide(&writer, &protected, ChildAction::ManagePlacements),
            Decision::Hidden
        );
        assert_eq!(
            decide(&placements, &plain, ChildAction::ManagePlacements),
            Decision::Forbidden
        );
        let every = system(Scope::ALL.to_vec());
        assert_eq!(
            decide(&every, &plain, ChildAction::RecordReview),
            Decision::Forbidden
        );
        assert!(refused_whatever_the_child(&every, ChildAction::Update));
        assert!(!refused_whatever_the_child(&every, ChildAction::Read));
    }
}
